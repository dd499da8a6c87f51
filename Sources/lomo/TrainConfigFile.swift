import Foundation

/// A `--config` file for `lomo train`: a flat JSON object, or flat YAML (`key: value` lines,
/// `#` comments). Keys are the long flag names with or without dashes (`max-steps`,
/// `max_steps`). Values stay text and are parsed like the flags; flags given on the command
/// line override them.
struct TrainConfigFile {
  var values: [String: String] = [:]
  let path: String

  init(path: String) throws {
    self.path = path
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CommandError("\(path): cannot read the config file")
    }
    let text = String(decoding: data, as: UTF8.self)
    if text.drop(while: \.isWhitespace).first == "{" {
      guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw CommandError("\(path): not a JSON object")
      }
      for (k, v) in object {
        switch v {
        case let s as String: values[Self.key(k)] = s
        case let b as Bool where type(of: v) == type(of: true as Any): values[Self.key(k)] = b ? "true" : "false"
        case let n as NSNumber: values[Self.key(k)] = n.stringValue
        default: throw CommandError("\(path): '\(k)' must be a string, number or boolean")
        }
      }
    } else {
      for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
          .map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        if line.isEmpty || line == "---" { continue }
        guard let colon = line.firstIndex(of: ":") else {
          throw CommandError("\(path):\(i + 1): expected 'key: value'")
        }
        var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
          value = String(value.dropFirst().dropLast())
        }
        values[Self.key(String(line[..<colon]))] = value
      }
    }
  }

  static func key(_ k: String) -> String {
    k.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-")
  }

  /// Throws on keys that name no option.
  func checkKeys(_ known: Set<String>) throws {
    if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
      throw CommandError("\(path): unknown option '\(unknown)'")
    }
  }
}
