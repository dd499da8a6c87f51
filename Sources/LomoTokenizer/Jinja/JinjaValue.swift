/// A value during rendering, with Python's data model as Jinja exposes it: `None`, bools, ints,
/// floats, strings, lists, tuples, insertion-ordered dicts with string keys, `namespace()`
/// objects, callables, and Jinja's default `Undefined` (falsy, renders empty, iterates as
/// empty; using it as data is an error carrying `hint`).
enum JinjaValue {
  case undefined(hint: String)
  case none
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case list([JinjaValue])
  case tuple([JinjaValue])
  case dict(JinjaDict)
  case namespace(JinjaNamespace)
  case function(JinjaFunction)

  var isUndefined: Bool {
    if case .undefined = self { return true }
    return false
  }

  /// Python truthiness.
  var truthy: Bool {
    switch self {
    case .undefined, .none: false
    case .bool(let b): b
    case .int(let i): i != 0
    case .double(let d): d != 0
    case .string(let s): !s.isEmpty
    case .list(let a), .tuple(let a): !a.isEmpty
    case .dict(let d): !d.isEmpty
    case .namespace, .function: true
    }
  }

  /// The Python type name, as error messages use it.
  var typeName: String {
    switch self {
    case .undefined: "Undefined"
    case .none: "NoneType"
    case .bool: "bool"
    case .int: "int"
    case .double: "float"
    case .string: "str"
    case .list: "list"
    case .tuple: "tuple"
    case .dict: "dict"
    case .namespace: "Namespace"
    case .function: "function"
    }
  }

  /// A number as a Double (bools count as 0 and 1, as in Python); nil for other values.
  var number: Double? {
    switch self {
    case .bool(let b): b ? 1 : 0
    case .int(let i): Double(i)
    case .double(let d): d
    default: nil
    }
  }

  /// An integer (bools count as 0 and 1); nil for other values, floats included.
  var integer: Int? {
    switch self {
    case .bool(let b): b ? 1 : 0
    case .int(let i): i
    default: nil
    }
  }

  /// Python `str()`; Undefined renders as the empty string.
  var str: String {
    switch self {
    case .undefined: ""
    case .string(let s): s
    default: repr
    }
  }

  /// Python `repr()`.
  var repr: String {
    switch self {
    case .undefined: ""
    case .none: "None"
    case .bool(let b): b ? "True" : "False"
    case .int(let i): String(i)
    case .double(let d): JinjaValue.pythonFloat(d)
    case .string(let s): JinjaValue.pythonRepr(s)
    case .list(let a): "[" + a.map(\.repr).joined(separator: ", ") + "]"
    case .tuple(let a): a.count == 1 ? "(" + a[0].repr + ",)" : "(" + a.map(\.repr).joined(separator: ", ") + ")"
    case .dict(let d): "{" + d.pairs.map { JinjaValue.pythonRepr($0.key) + ": " + $0.value.repr }.joined(separator: ", ") + "}"
    case .namespace(let n): "<Namespace " + JinjaValue.dict(n.attributes).repr + ">"
    case .function(let f): "<function \(f.name)>"
    }
  }

  /// The elements a `for` loop visits: list and tuple items, dict keys, string code points,
  /// nothing for Undefined; nil for values that are not iterable.
  var iterated: [JinjaValue]? {
    switch self {
    case .undefined: []
    case .list(let a), .tuple(let a): a
    case .dict(let d): d.keys.map(JinjaValue.string)
    case .string(let s): s.unicodeScalars.map { .string(String($0)) }
    default: nil
    }
  }

  /// Python `==`: numbers compare by value across int, float and bool; containers deeply.
  static func equal(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
    switch (a, b) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
    case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
    case (.dict(let x), .dict(let y)):
      return x.count == y.count && x.pairs.allSatisfy { p in y[p.key].map { equal(p.value, $0) } ?? false }
    case (.namespace(let x), .namespace(let y)): return x === y
    default:
      if let x = a.integer, let y = b.integer { return x == y }
      if let x = a.number, let y = b.number { return x == y }
      return false
    }
  }

  /// Python's `repr` of a float: the shortest digits that round-trip, positional between 1e-4
  /// and 1e16, scientific (`1e-05`, `1.5e+16`) outside.
  static func pythonFloat(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description has the same shortest round-trip digits; only the layout differs.
    var text = abs(d).description
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      exponent = Int(text[text.index(after: e)...]) ?? 0
      text = String(text[..<e])
    }
    let point = text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? text.count
    var digits = text.filter { $0 != "." }
    var leading = 0
    while digits.first == "0" && digits.count > 1 {
      digits.removeFirst()
      leading += 1
    }
    while digits.last == "0" && digits.count > 1 { digits.removeLast() }
    // value = 0.digits × 10^decimalPoint
    let decimalPoint = point + exponent - leading
    let sign = d < 0 ? "-" : ""
    let leadExponent = decimalPoint - 1
    if leadExponent < -4 || leadExponent >= 16 {
      let rest = digits.dropFirst()
      let mantissa = String(digits.prefix(1)) + (rest.isEmpty ? "" : "." + rest)
      let e = abs(leadExponent) < 10 ? "0\(abs(leadExponent))" : "\(abs(leadExponent))"
      return sign + mantissa + "e" + (leadExponent < 0 ? "-" : "+") + e
    }
    if decimalPoint <= 0 { return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits }
    if decimalPoint >= digits.count { return sign + digits + String(repeating: "0", count: decimalPoint - digits.count) + ".0" }
    let cut = digits.index(digits.startIndex, offsetBy: decimalPoint)
    return sign + digits[..<cut] + "." + digits[cut...]
  }

  /// Python's `repr` of a string: single quotes unless the text has one and no double quote.
  static func pythonRepr(_ s: String) -> String {
    let quote: Unicode.Scalar = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for c in s.unicodeScalars {
      switch c {
      case quote, "\\": out += "\\" + String(c)
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if c.value < 0x20 || c.value == 0x7F {
          out += "\\x" + hex(c.value, width: 2)
        } else {
          out.unicodeScalars.append(c)
        }
      }
    }
    return out + String(quote)
  }

  static func hex(_ v: UInt32, width: Int) -> String {
    let h = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - h.count)) + h
  }
}

/// A dict with string keys in insertion order (Python dicts keep it; templates iterate them).
/// Keys compare by their code points, as Python's do (not by canonical equivalence); dicts in
/// templates are small, so lookup is a scan.
struct JinjaDict {
  private(set) var pairs: [(key: String, value: JinjaValue)] = []

  init() {}

  init(_ pairs: [(String, JinjaValue)]) {
    for (k, v) in pairs { self[k] = v }
  }

  var count: Int { pairs.count }
  var isEmpty: Bool { pairs.isEmpty }
  var keys: [String] { pairs.map(\.key) }

  private func index(_ key: String) -> Int? { pairs.firstIndex { $0.key.unicodeScalars.elementsEqual(key.unicodeScalars) } }

  subscript(key: String) -> JinjaValue? {
    get { index(key).map { pairs[$0].value } }
    set {
      switch (index(key), newValue) {
      case (let i?, let v?): pairs[i].value = v
      case (let i?, nil): pairs.remove(at: i)
      case (nil, let v?): pairs.append((key, v))
      case (nil, nil): break
      }
    }
  }
}

/// Jinja's `namespace()`: a mutable object shared by reference, so `{% set ns.x = … %}` inside
/// a loop is seen after it.
final class JinjaNamespace {
  var attributes: JinjaDict
  init(_ attributes: JinjaDict) { self.attributes = attributes }
}

/// A callable value: a global such as `raise_exception`, or a bound method such as `'a'.strip`.
struct JinjaFunction {
  let name: String
  let call: (JinjaCallArguments) throws(JinjaError) -> JinjaValue
}

/// The evaluated arguments of a call, with the line of the call for errors.
struct JinjaCallArguments {
  var positional: [JinjaValue]
  var keyword: [(name: String, value: JinjaValue)]
  let line: Int
  /// Names the call is for, in errors ("strip", "tojson").
  let callee: String

  /// The argument at `index` or named `name`, else nil.
  func argument(_ index: Int, _ name: String) -> JinjaValue? {
    if index < positional.count { return positional[index] }
    return keyword.first { $0.name == name }?.value
  }

  /// Refuses more positional arguments than `count`, or keywords not in `names`.
  func check(atMost count: Int, names: [String] = []) throws(JinjaError) {
    if positional.count > count {
      throw JinjaError(.runtime, line: line, "\(callee) takes at most \(count) arguments, \(positional.count) given")
    }
    if let bad = keyword.first(where: { !names.contains($0.name) }) {
      throw JinjaError(.runtime, line: line, "\(callee) got an unexpected keyword argument '\(bad.name)'")
    }
  }

  /// A string argument (nil when absent or none), or a type error.
  func string(_ index: Int, _ name: String) throws(JinjaError) -> String? {
    switch argument(index, name) {
    case nil, .none?: return nil
    case .string(let s)?: return s
    case let v?: throw JinjaError(.runtime, line: line, "\(callee): argument '\(name)' must be a string, not \(v.typeName)")
    }
  }

  /// An integer argument (nil when absent or none), or a type error.
  func int(_ index: Int, _ name: String) throws(JinjaError) -> Int? {
    switch argument(index, name) {
    case nil, .none?: return nil
    case let v?:
      guard let i = v.integer else { throw JinjaError(.runtime, line: line, "\(callee): argument '\(name)' must be an integer, not \(v.typeName)") }
      return i
    }
  }
}
