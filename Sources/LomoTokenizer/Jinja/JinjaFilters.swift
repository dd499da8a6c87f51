/// Jinja's filters used by chat templates, with Jinja's semantics on odd input (Undefined
/// trims to "", has length 0, iterates as empty): trim, length/count, tojson, upper, lower,
/// capitalize, title, default/d, join, list, first, last, items, string, replace, int, float,
/// abs, reverse, safe, select, reject, selectattr, rejectattr, map.
extension JinjaRenderer {
  static let filterNames: Set<String> = [
    "trim", "length", "count", "tojson", "upper", "lower", "capitalize", "title", "default", "d", "join",
    "list", "first", "last", "items", "string", "replace", "int", "float", "abs", "reverse", "safe",
    "select", "reject", "selectattr", "rejectattr", "map",
  ]

  mutating func filter(_ name: String, _ v: JinjaValue, _ a: JinjaCallArguments) throws(JinjaError) -> JinjaValue {
    func items() throws(JinjaError) -> [JinjaValue] {
      guard let items = v.iterated else { throw JinjaError(.runtime, line: a.line, "\(name): '\(v.typeName)' object is not iterable") }
      return items
    }
    switch name {
    case "trim":
      try a.check(atMost: 1, names: ["chars"])
      return .string(JinjaStrings.strip(v.str, try a.string(0, "chars"), leading: true, trailing: true))
    case "length", "count":
      switch v {
      case .string(let s): return .int(s.unicodeScalars.count)
      case .dict(let d): return .int(d.count)
      case .namespace(let ns): return .int(ns.attributes.count)
      default: return .int(try items().count)
      }
    case "tojson":
      return .string(try JinjaJSON(a).encode(v))
    case "upper": return .string(v.str.uppercased())
    case "lower": return .string(v.str.lowercased())
    case "capitalize": return .string(JinjaStrings.capitalize(v.str))
    case "title": return .string(Self.titleFilter(v.str))
    case "string", "safe": return name == "safe" ? v : .string(v.str)
    case "default", "d":
      try a.check(atMost: 2, names: ["default_value", "boolean"])
      let useDefault = v.isUndefined || ((a.argument(1, "boolean")?.truthy ?? false) && !v.truthy)
      return useDefault ? a.argument(0, "default_value") ?? .string("") : v
    case "join":
      try a.check(atMost: 2, names: ["d", "attribute"])
      var parts = try items()
      if let attr = a.argument(1, "attribute") { parts = try parts.map { (p: JinjaValue) throws(JinjaError) in try path(p, attr, line: a.line) } }
      return .string(parts.map(\.str).joined(separator: try a.string(0, "d") ?? ""))
    case "list": return .list(try items())
    case "first", "last":
      let all = try items()
      return (name == "first" ? all.first : all.last) ?? .undefined(hint: "no \(name) item, the sequence was empty")
    case "items":
      switch v {
      case .undefined: return .list([])
      case .dict(let d): return .list(d.pairs.map { .tuple([.string($0.key), $0.value]) })
      default: throw JinjaError(.runtime, line: a.line, "items: can only get item pairs from a mapping, not \(v.typeName)")
      }
    case "replace":
      try a.check(atMost: 3, names: ["count"])
      guard let old = try a.string(0, "old"), let new = try a.string(1, "new") else {
        throw JinjaError(.runtime, line: a.line, "replace needs the old and new strings")
      }
      return .string(JinjaStrings.replace(v.str, old, new, count: try a.int(2, "count") ?? -1))
    case "int", "float":
      return Self.convertNumber(v, toInt: name == "int", default: a.argument(0, "default"))
    case "abs":
      switch v {
      case .double(let d): return .double(Swift.abs(d))
      default:
        guard let i = v.integer, i != .min else { throw JinjaError(.runtime, line: a.line, "abs: bad operand type '\(v.typeName)'") }
        return .int(Swift.abs(i))
      }
    case "reverse":
      if case .string(let s) = v { return .string(JinjaStrings.string(s.unicodeScalars.reversed())) }
      return .list(try items().reversed())
    case "select", "reject", "selectattr", "rejectattr":
      return .list(try select(name, try items(), a))
    case "map":
      return .list(try mapFilter(try items(), a))
    default:
      throw JinjaError(.runtime, line: a.line, "no filter named '\(name)'")
    }
  }

  /// Jinja's `title` filter: each word (split at runs of whitespace, `-`, and opening brackets)
  /// gets an upper-case first character and lower-case rest.
  static func titleFilter(_ s: String) -> String {
    var out = ""
    var atWordStart = true
    for c in s.unicodeScalars {
      let separator = JinjaLexer.isSpace(c) || "-({[<".unicodeScalars.contains(c)
      out += separator ? String(c) : atWordStart ? String(c).uppercased() : String(c).lowercased()
      atWordStart = separator
    }
    return out
  }

  static func convertNumber(_ v: JinjaValue, toInt: Bool, default dflt: JinjaValue?) -> JinjaValue {
    let fallback = dflt ?? (toInt ? .int(0) : .double(0))
    switch v {
    case .int, .bool: return toInt ? .int(v.integer ?? 0) : .double(v.number ?? 0)
    case .double(let d):
      guard toInt else { return v }
      return d.isFinite && Swift.abs(d) < 9e18 ? .int(Int(d)) : fallback
    case .string(let s):
      let t = JinjaStrings.strip(s, nil, leading: true, trailing: true).replacingOccurrences(of: "_", with: "")
      if let i = Int(t) { return toInt ? .int(i) : .double(Double(i)) }
      if let d = Double(t) { return toInt ? (d.isFinite && Swift.abs(d) < 9e18 ? .int(Int(d)) : fallback) : .double(d) }
      return fallback
    default: return fallback
    }
  }

  /// select/reject(test, args…) and selectattr/rejectattr(attribute, test, args…); without a
  /// test, the value's truthiness decides.
  mutating func select(_ name: String, _ items: [JinjaValue], _ a: JinjaCallArguments) throws(JinjaError) -> [JinjaValue] {
    let byAttribute = name.hasSuffix("attr")
    var rest = a.positional
    var attribute: JinjaValue?
    if byAttribute {
      guard !rest.isEmpty else { throw JinjaError(.runtime, line: a.line, "\(name) needs an attribute name") }
      attribute = rest.removeFirst()
    }
    var testName: String?
    if !rest.isEmpty {
      guard case .string(let t) = rest.removeFirst() else { throw JinjaError(.runtime, line: a.line, "\(name): the test name must be a string") }
      testName = t
    }
    let testArgs = JinjaCallArguments(positional: rest, keyword: a.keyword, line: a.line, callee: testName ?? name)
    let keep = name.hasPrefix("select")
    var out: [JinjaValue] = []
    for item in items {
      try charge(1, line: a.line)
      let subject = try attribute.map { (attr: JinjaValue) throws(JinjaError) in try path(item, attr, line: a.line) } ?? item
      let passes = try testName.map { (t: String) throws(JinjaError) in try test(t, subject, testArgs) } ?? subject.truthy
      if passes == keep { out.append(item) }
    }
    return out
  }

  /// The item an attribute argument names (`"role"`, dotted `"function.name"`, or an index).
  func path(_ value: JinjaValue, _ attribute: JinjaValue, line: Int) throws(JinjaError) -> JinjaValue {
    guard case .string(let dotted) = attribute else { return try item(of: value, attribute, line: line) }
    var v = value
    for part in dotted.split(separator: ".", omittingEmptySubsequences: false) {
      if v.isUndefined { return v }
      v = try item(of: v, Int(part).map(JinjaValue.int) ?? .string(String(part)), line: line)
    }
    return v
  }

  /// map(attribute='x', default=…) or map('filter', args…).
  mutating func mapFilter(_ items: [JinjaValue], _ a: JinjaCallArguments) throws(JinjaError) -> [JinjaValue] {
    if let attr = a.keyword.first(where: { $0.name == "attribute" })?.value {
      let dflt = a.keyword.first { $0.name == "default" }?.value
      return try items.map { (item: JinjaValue) throws(JinjaError) in
        let v = try path(item, attr, line: a.line)
        return v.isUndefined ? dflt ?? v : v
      }
    }
    guard case .string(let filterName)? = a.positional.first else {
      throw JinjaError(.runtime, line: a.line, "map needs a filter name or attribute=")
    }
    guard Self.filterNames.contains(filterName) else { throw JinjaError(.runtime, line: a.line, "no filter named '\(filterName)'") }
    let args = JinjaCallArguments(positional: Array(a.positional.dropFirst()), keyword: a.keyword, line: a.line, callee: filterName)
    var out: [JinjaValue] = []
    for item in items {
      try charge(1, line: a.line)
      out.append(try filter(filterName, item, args))
    }
    return out
  }
}
