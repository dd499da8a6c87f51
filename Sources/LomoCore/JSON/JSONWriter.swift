/// How `JSONValue.serialized` lays out its text.
public struct JSONWriteOptions: OptionSet, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// Two-space indentation, one member or element per line, `"key": value`.
  public static let pretty = JSONWriteOptions(rawValue: 1)
  /// Object members sorted by the UTF-8 bytes of their keys (for dictionaries encoded in hash
  /// order); without it members are written in order.
  public static let sortedKeys = JSONWriteOptions(rawValue: 2)
}

extension JSONValue {
  /// RFC 8259 text, UTF-8, without a trailing newline. Strings are written as they are, with
  /// `"`, `\` and control characters escaped (non-ASCII stays raw UTF-8); numbers as their
  /// literals (see `JSONNumber`), so `JSONValue(parsing: v.serialized()) == v`.
  public func serialized(_ options: JSONWriteOptions = []) -> [UInt8] {
    var out: [UInt8] = []
    write(into: &out, options, indent: 0)
    return out
  }

  private func write(into out: inout [UInt8], _ options: JSONWriteOptions, indent: Int) {
    let pretty = options.contains(.pretty)
    func newline(_ level: Int) {
      guard pretty else { return }
      out.append(0x0A)
      out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * level))
    }
    switch self {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .number(let n): out.append(contentsOf: n.text.utf8)
    case .string(let s): Self.writeString(s, into: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (k, item) in items.enumerated() {
        if k > 0 { out.append(UInt8(ascii: ",")) }
        newline(indent + 1)
        item.write(into: &out, options, indent: indent + 1)
      }
      if !items.isEmpty { newline(indent) }
      out.append(UInt8(ascii: "]"))
    case .object(let o):
      var members = o.members
      if options.contains(.sortedKeys) {
        members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
      }
      out.append(UInt8(ascii: "{"))
      for (k, m) in members.enumerated() {
        if k > 0 { out.append(UInt8(ascii: ",")) }
        newline(indent + 1)
        Self.writeString(m.key, into: &out)
        out.append(UInt8(ascii: ":"))
        if pretty { out.append(UInt8(ascii: " ")) }
        m.value.write(into: &out, options, indent: indent + 1)
      }
      if !members.isEmpty { newline(indent) }
      out.append(UInt8(ascii: "}"))
    }
  }

  private static func writeString(_ s: String, into out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for c in s.utf8 {
      switch c {
      case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
      case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
      case 0x0A: out.append(contentsOf: #"\n"#.utf8)
      case 0x0D: out.append(contentsOf: #"\r"#.utf8)
      case 0x09: out.append(contentsOf: #"\t"#.utf8)
      case 0..<0x20: out.append(contentsOf: #"\u00"#.utf8 + [hex[Int(c >> 4)], hex[Int(c & 15)]])
      default: out.append(c)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}

extension JSONValue: CustomStringConvertible {
  /// The compact JSON text.
  public var description: String { String(decoding: serialized(), as: UTF8.self) }
}
