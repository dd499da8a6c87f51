import Foundation

/// Binary and unary operators with Python's semantics: int arithmetic that reports overflow
/// instead of trapping, true division `/`, floor division and modulo that round toward minus
/// infinity, `+` on strings and lists, `*` repeating them, `~` joining `str()`s, comparisons of
/// numbers and of strings, and `in` on strings, lists and dict keys. Undefined operands are an
/// error except for `~`, `==`, `!=` and `in` (Jinja's default Undefined).
extension JinjaRenderer {
  func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue, line: Int) throws(JinjaError) -> JinjaValue {
    switch op {
    case "==": return .bool(JinjaValue.equal(a, b))
    case "!=": return .bool(!JinjaValue.equal(a, b))
    case "~": return .string(a.str + b.str)
    case "in": return .bool(try contains(b, a, line: line))
    default: break
    }
    for v in [a, b] {
      if case .undefined(let hint) = v { throw JinjaError(.runtime, line: line, hint) }
    }
    func typeError() -> JinjaError {
      ["<", "<=", ">", ">="].contains(op)
        ? JinjaError(.runtime, line: line, "'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        : JinjaError(.runtime, line: line, "unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }
    switch (op, a, b) {
    case ("+", .string(let x), .string(let y)): return .string(x + y)
    case ("+", .list(let x), .list(let y)): return .list(x + y)
    case ("+", .tuple(let x), .tuple(let y)): return .tuple(x + y)
    case ("*", .string(let x), _), ("*", _, .string(let x)):
      guard let n = (a.integer != nil ? a : b).integer else { throw typeError() }
      try checkRepeat(x.utf8.count, n, line: line)
      return .string(String(repeating: x, count: max(n, 0)))
    case ("*", .list(let x), _), ("*", _, .list(let x)):
      guard let n = (a.integer != nil ? a : b).integer else { throw typeError() }
      try checkRepeat(x.count, n, line: line)
      return .list(Array([[JinjaValue]](repeating: x, count: max(n, 0)).joined()))
    case ("<", .string(let x), .string(let y)): return .bool(Self.less(x, y))
    case ("<=", .string(let x), .string(let y)): return .bool(!Self.less(y, x))
    case (">", .string(let x), .string(let y)): return .bool(Self.less(y, x))
    case (">=", .string(let x), .string(let y)): return .bool(!Self.less(x, y))
    default: break
    }
    if let x = a.integer, let y = b.integer {
      guard let r = try integerOp(op, x, y, line: line) else { throw typeError() }
      return r
    }
    guard let x = a.number, let y = b.number else { throw typeError() }
    switch op {
    case "+": return .double(x + y)
    case "-": return .double(x - y)
    case "*": return .double(x * y)
    case "/", "//", "%":
      guard y != 0 else { throw JinjaError(.runtime, line: line, "division by zero") }
      if op == "/" { return .double(x / y) }
      if op == "//" { return .double((x / y).rounded(.down)) }
      let r = x.truncatingRemainder(dividingBy: y)
      return .double(r != 0 && (r < 0) != (y < 0) ? r + y : r)
    case "**": return .double(pow(x, y))
    case "<": return .bool(x < y)
    case "<=": return .bool(x <= y)
    case ">": return .bool(x > y)
    case ">=": return .bool(x >= y)
    default: throw typeError()
    }
  }

  /// Strings compare by code point, as in Python.
  static func less(_ x: String, _ y: String) -> Bool {
    x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
  }

  func checkRepeat(_ size: Int, _ times: Int, line: Int) throws(JinjaError) {
    let (total, overflow) = size.multipliedReportingOverflow(by: max(times, 0))
    if overflow || total > limits.maxOutputBytes {
      throw JinjaError(.limit, line: line, "repeating \(size) items \(times) times exceeds the output limit")
    }
  }

  /// Integer arithmetic and comparison; nil for an operator that does not apply.
  func integerOp(_ op: String, _ x: Int, _ y: Int, line: Int) throws(JinjaError) -> JinjaValue? {
    func checked(_ r: (partialValue: Int, overflow: Bool)) throws(JinjaError) -> JinjaValue {
      if r.overflow { throw JinjaError(.runtime, line: line, "integer overflow in \(x) \(op) \(y)") }
      return .int(r.partialValue)
    }
    switch op {
    case "+": return try checked(x.addingReportingOverflow(y))
    case "-": return try checked(x.subtractingReportingOverflow(y))
    case "*": return try checked(x.multipliedReportingOverflow(by: y))
    case "/":
      guard y != 0 else { throw JinjaError(.runtime, line: line, "division by zero") }
      return .double(Double(x) / Double(y))
    case "//", "%":
      guard y != 0 else { throw JinjaError(.runtime, line: line, "integer division or modulo by zero") }
      let q = x.dividedReportingOverflow(by: y)
      if q.overflow { throw JinjaError(.runtime, line: line, "integer overflow in \(x) \(op) \(y)") }
      let r = x - q.partialValue * y
      let floorAdjust = r != 0 && (r < 0) != (y < 0)
      return op == "//" ? .int(q.partialValue - (floorAdjust ? 1 : 0)) : .int(floorAdjust ? r + y : r)
    case "**":
      guard y >= 0 else { return .double(pow(Double(x), Double(y))) }
      var result = 1
      for _ in 0..<min(y, 64) {
        let r = result.multipliedReportingOverflow(by: x)
        if r.overflow { throw JinjaError(.runtime, line: line, "integer overflow in \(x) ** \(y)") }
        result = r.partialValue
      }
      if y > 64 && abs(x) > 1 { throw JinjaError(.runtime, line: line, "integer overflow in \(x) ** \(y)") }
      return .int(y > 64 && x == -1 ? (y % 2 == 0 ? 1 : -1) : result)
    case "<": return .bool(x < y)
    case "<=": return .bool(x <= y)
    case ">": return .bool(x > y)
    case ">=": return .bool(x >= y)
    default: return nil
    }
  }

  /// `needle in haystack`.
  func contains(_ haystack: JinjaValue, _ needle: JinjaValue, line: Int) throws(JinjaError) -> Bool {
    switch haystack {
    case .undefined: return false
    case .string(let s):
      guard case .string(let n) = needle else {
        throw JinjaError(.runtime, line: line, "'in <string>' requires string as left operand, not \(needle.typeName)")
      }
      return n.isEmpty || s.unicodeScalars.count >= n.unicodeScalars.count && Array(s.unicodeScalars).firstRange(of: Array(n.unicodeScalars)) != nil
    case .list(let a), .tuple(let a): return a.contains { JinjaValue.equal($0, needle) }
    case .dict(let d):
      guard case .string(let k) = needle else { return false }
      return d[k] != nil
    case .namespace(let ns):
      guard case .string(let k) = needle else { return false }
      return ns.attributes[k] != nil
    default:
      throw JinjaError(.runtime, line: line, "argument of type '\(haystack.typeName)' is not iterable")
    }
  }

  func unary(negate: Bool, _ v: JinjaValue, line: Int) throws(JinjaError) -> JinjaValue {
    switch v {
    case .int(let i):
      guard negate else { return v }
      let r = (0).subtractingReportingOverflow(i)
      if r.overflow { throw JinjaError(.runtime, line: line, "integer overflow in -\(i)") }
      return .int(r.partialValue)
    case .bool(let b): return .int(negate ? (b ? -1 : 0) : (b ? 1 : 0))
    case .double(let d): return .double(negate ? -d : d)
    case .undefined(let hint): throw JinjaError(.runtime, line: line, hint)
    default: throw JinjaError(.runtime, line: line, "bad operand type for unary \(negate ? "-" : "+"): '\(v.typeName)'")
    }
  }
}
