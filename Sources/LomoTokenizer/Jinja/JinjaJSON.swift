/// transformers' `tojson` filter: Python's `json.dumps(x, ensure_ascii=False, indent=None,
/// separators=None, sort_keys=False)` with those options settable, byte for byte: `", "` and
/// `": "` between items (`","` at line ends when indenting), floats as Python writes them
/// (`NaN`, `Infinity`), tuples as arrays. Undefined, namespaces and functions are not
/// serialisable (an error, as in Python).
struct JinjaJSON {
  var indent: String?
  var itemSeparator: String
  var keySeparator: String
  var sortKeys = false
  var ensureASCII = false
  let line: Int

  init(_ a: JinjaCallArguments) throws(JinjaError) {
    line = a.line
    try a.check(atMost: 4, names: ["ensure_ascii", "indent", "separators", "sort_keys"])
    ensureASCII = a.argument(0, "ensure_ascii")?.truthy ?? false
    switch a.argument(1, "indent") {
    case nil, .none?: indent = nil
    case .string(let s)?: indent = s
    case let v?:
      guard let n = v.integer else { throw JinjaError(.runtime, line: a.line, "tojson: indent must be an integer or a string") }
      indent = String(repeating: " ", count: max(0, min(n, 64)))
    }
    itemSeparator = indent == nil ? ", " : ","
    keySeparator = ": "
    switch a.argument(2, "separators") {
    case nil, .none?: break
    case .tuple(let pair)?, .list(let pair)?:
      guard pair.count == 2, case .string(let i) = pair[0], case .string(let k) = pair[1] else {
        throw JinjaError(.runtime, line: a.line, "tojson: separators must be a pair of strings")
      }
      itemSeparator = i
      keySeparator = k
    default:
      throw JinjaError(.runtime, line: a.line, "tojson: separators must be a pair of strings")
    }
    sortKeys = a.argument(3, "sort_keys")?.truthy ?? false
  }

  func encode(_ v: JinjaValue) throws(JinjaError) -> String {
    var out = ""
    try write(v, level: 0, into: &out)
    return out
  }

  private func newline(_ level: Int) -> String {
    guard let indent else { return "" }
    return "\n" + String(repeating: indent, count: level)
  }

  private func write(_ v: JinjaValue, level: Int, into out: inout String) throws(JinjaError) {
    guard level < 100 else { throw JinjaError(.limit, line: line, "tojson: value nested deeper than 100 levels") }
    switch v {
    case .none: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d): out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : JinjaValue.pythonFloat(d)
    case .string(let s): out += quote(s)
    case .list(let items), .tuple(let items):
      guard !items.isEmpty else { out += "[]"; return }
      out += "["
      for (k, item) in items.enumerated() {
        out += (k == 0 ? "" : itemSeparator) + newline(level + 1)
        try write(item, level: level + 1, into: &out)
      }
      out += newline(level) + "]"
    case .dict(let d):
      var pairs = d.pairs
      guard !pairs.isEmpty else { out += "{}"; return }
      if sortKeys { pairs.sort { JinjaRenderer.less($0.key, $1.key) } }
      out += "{"
      for (k, p) in pairs.enumerated() {
        out += (k == 0 ? "" : itemSeparator) + newline(level + 1) + quote(p.key) + keySeparator
        try write(p.value, level: level + 1, into: &out)
      }
      out += newline(level) + "}"
    case .undefined, .namespace, .function:
      throw JinjaError(.runtime, line: line, "tojson: object of type \(v.typeName) is not JSON serializable")
    }
  }

  /// A JSON string literal as Python's encoder writes it.
  func quote(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if c.value < 0x20 {
          out += "\\u" + JinjaValue.hex(c.value, width: 4)
        } else if ensureASCII && c.value > 0x7E {
          if c.value > 0xFFFF {
            let v = c.value - 0x10000
            out += "\\u" + JinjaValue.hex(0xD800 + (v >> 10), width: 4) + "\\u" + JinjaValue.hex(0xDC00 + (v & 0x3FF), width: 4)
          } else {
            out += "\\u" + JinjaValue.hex(c.value, width: 4)
          }
        } else {
          out.unicodeScalars.append(c)
        }
      }
    }
    return out + "\""
  }
}
