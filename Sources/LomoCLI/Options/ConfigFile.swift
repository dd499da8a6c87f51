import ArgumentParser
import Foundation
import LomoCore

/// A `--config FILE` of command options: a flat JSON object, or flat YAML (`key: value`
/// lines, `#` comments, optional quotes). Keys are the command's long option names, with
/// dashes or underscores (`max-steps`, `max_steps`); a flag takes true or false.
///
/// The file is turned into arguments that go before the command line's, so an option given on
/// the command line wins (ArgumentParser keeps an option's last value). Every default,
/// check and help text therefore stays the command's own declaration: the file accepts exactly
/// the options the command declares, parsed and validated the same way.
struct ConfigFile {
  /// A value as written: text for an option, or a boolean (for a flag).
  enum Value: Equatable {
    case text(String)
    case boolean(Bool)
  }

  let path: String
  /// The options in file order, keys normalised to dashes.
  let entries: [(key: String, value: Value)]

  init(path: String) throws {
    self.path = path
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CommandError("\(path): cannot read the config file")
    }
    let text = String(decoding: data, as: UTF8.self)
    entries = text.drop(while: \.isWhitespace).first == "{"
      ? try Self.jsonEntries(data, path: path) : try Self.yamlEntries(text, path: path)
  }

  static func key(_ k: String) -> String {
    k.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-")
  }

  private static func yamlEntries(_ text: String, path: String) throws -> [(key: String, value: Value)] {
    var entries: [(key: String, value: Value)] = []
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
        .map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
      if line.isEmpty || line == "---" { continue }
      guard let colon = line.firstIndex(of: ":") else {
        throw CommandError("\(path):\(i + 1): expected 'key: value'")
      }
      var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      let quoted = value.count >= 2 && (value.first == "\"" || value.first == "'") && value.last == value.first
      if quoted { value = String(value.dropFirst().dropLast()) }
      let boolean = quoted ? nil : ["true": true, "false": false][value.lowercased()]
      entries.append((key(String(line[..<colon])), boolean.map(Value.boolean) ?? .text(value)))
    }
    return entries
  }

  /// The members of a flat JSON object in file order (a number as written in the file).
  private static func jsonEntries(_ data: Data, path: String) throws -> [(key: String, value: Value)] {
    do {
      return try JSONField(JSONValue(parsing: data)).members().map { k, field throws(JSONError) in
        switch field.value {
        case .string(let s): (key(k), .text(s))
        case .bool(let b): (key(k), .boolean(b))
        case .number(let n): (key(k), .text(n.text))
        default: throw field.error(.wrongType(expected: "a string, number or boolean", found: field.value?.typeName ?? "nothing"))
        }
      }
    } catch {
      throw CommandError("\(path): \(error)")
    }
  }

  /// The arguments these options stand for in `command`: `--key value` for an option, `--key`
  /// for a flag set to true (nothing for false). Throws, naming the file, for a key that is
  /// not one of the command's options, a flag with a value that is not a boolean, or `config`.
  func arguments(for command: ParsableCommand.Type) throws -> [String] {
    let declared = CommandDeclarations(command)
    var arguments: [String] = []
    for (key, value) in entries {
      guard key != "config", key != "help", let kind = declared.kinds[key] else {
        throw CommandError("\(path): '\(key)' is not an option of lomo \(command._commandName)")
      }
      switch (kind, value) {
      case (.flag, .boolean(let on)): if on { arguments.append("--\(key)") }
      case (.flag, .text(let s)): throw CommandError("\(path): '\(key)' is a flag: write true or false, not '\(s)'")
      case (.option, .boolean(let b)): arguments += ["--\(key)", "\(b)"]
      case (.option, .text(let s)): arguments += ["--\(key)", s]
      }
    }
    return arguments
  }

  /// `arguments` (a command's own, after its name) with every `--config FILE` replaced by
  /// that file's options placed first, so the command line's own options override them.
  static func expand(_ arguments: [String], for command: ParsableCommand.Type) throws -> [String] {
    var fromFiles: [String] = [], rest: [String] = []
    var i = 0
    while i < arguments.count {
      let a = arguments[i]
      if a == "--" { rest += arguments[i...]; break }
      if a == "--config" || a.hasPrefix("--config=") {
        let path: String
        if a == "--config" {
          guard i + 1 < arguments.count else {  // ArgumentParser reports the missing value
            rest.append(a)
            break
          }
          path = arguments[i + 1]
          i += 1
        } else {
          path = String(a.dropFirst("--config=".count))
        }
        fromFiles += try ConfigFile(path: path).arguments(for: command)
      } else {
        rest.append(a)
      }
      i += 1
    }
    return fromFiles + rest
  }
}
