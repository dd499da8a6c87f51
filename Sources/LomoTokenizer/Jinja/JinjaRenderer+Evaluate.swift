/// Evaluation of expressions: names, literals, attribute and item access, calls, `and`/`or`
/// (which return an operand, as in Python), conditionals; operators, filters and tests are in
/// their own files.
extension JinjaRenderer {
  mutating func evaluate(_ e: JinjaExpr) throws(JinjaError) -> JinjaValue {
    try charge(1, line: e.line)
    switch e {
    case .string(let s): return .string(s)
    case .integer(let i): return .int(i)
    case .float(let d): return .double(d)
    case .bool(let b): return .bool(b)
    case .none: return .none
    case .list(let items): return .list(try items.map { (x: JinjaExpr) throws(JinjaError) in try evaluate(x) })
    case .tuple(let items): return .tuple(try items.map { (x: JinjaExpr) throws(JinjaError) in try evaluate(x) })
    case .dict(let pairs):
      var d = JinjaDict()
      for (k, v) in pairs {
        guard case .string(let key) = try evaluate(k) else {
          throw JinjaError(.runtime, line: line, "dict keys must be strings in this Jinja subset")
        }
        d[key] = try evaluate(v)
      }
      return .dict(d)
    case .name(let n, _):
      return lookup(n) ?? .undefined(hint: "'\(n)' is undefined")
    case .attribute(let base, let name, let line):
      return try attribute(of: try evaluate(base), name, line: line)
    case .subscript(let base, let index, let line):
      return try item(of: try evaluate(base), try evaluate(index), line: line)
    case .slice(let base, let start, let stop, let step, let line):
      let bounds = try [start, stop, step].map { (x: JinjaExpr?) throws(JinjaError) in try x.map { (y: JinjaExpr) throws(JinjaError) in try evaluate(y) } }
      return try built(try slice(try evaluate(base), bounds[0], bounds[1], bounds[2], line: line), line: line)
    case .call(let callee, let args, let line):
      let f = try evaluate(callee)
      guard case .function(let function) = f else {
        if case .undefined(let hint) = f { throw JinjaError(.runtime, line: line, hint) }
        throw JinjaError(.runtime, line: line, "'\(f.typeName)' object is not callable")
      }
      let result = try function.call(try arguments(args, line: line, callee: function.name))
      return try built(result, line: line)
    case .filter(let base, let name, let args, let line):
      let value = try evaluate(base)
      return try built(try filter(name, value, try arguments(args, line: line, callee: name)), line: line)
    case .test(let base, let name, let args, let negated, let line):
      let value = try evaluate(base)
      return .bool(try test(name, value, try arguments(args, line: line, callee: name)) != negated)
    case .binary(let op, let a, let b, let line):
      return try built(try binary(op, try evaluate(a), try evaluate(b), line: line), line: line)
    case .and(let a, let b):
      let x = try evaluate(a)
      return x.truthy ? try evaluate(b) : x
    case .or(let a, let b):
      let x = try evaluate(a)
      return x.truthy ? x : try evaluate(b)
    case .not(let a):
      return .bool(!(try evaluate(a).truthy))
    case .unary(let negate, let a, let line):
      return try unary(negate: negate, try evaluate(a), line: line)
    case .conditional(let condition, let then, let otherwise):
      if try evaluate(condition).truthy { return try evaluate(then) }
      return try otherwise.map { (x: JinjaExpr) throws(JinjaError) in try evaluate(x) } ?? .undefined(hint: "the conditional expression has no else branch")
    }
  }

  mutating func arguments(_ args: JinjaArguments, line: Int, callee: String) throws(JinjaError) -> JinjaCallArguments {
    var positional: [JinjaValue] = []
    for a in args.positional { positional.append(try evaluate(a)) }
    var keyword: [(name: String, value: JinjaValue)] = []
    for (n, a) in args.keyword { keyword.append((n, try evaluate(a))) }
    return JinjaCallArguments(positional: positional, keyword: keyword, line: line, callee: callee)
  }

  /// `value.name`: a method of strings and dicts (`strip`, `items`, `get`…) first, as Jinja
  /// prefers Python attributes; then a dict key or namespace attribute. Missing: Undefined.
  /// Attributes of Undefined are an error (Jinja's default Undefined).
  func attribute(of value: JinjaValue, _ name: String, line: Int) throws(JinjaError) -> JinjaValue {
    if case .undefined(let hint) = value { throw JinjaError(.runtime, line: line, hint) }
    if let method = Self.method(of: value, name) { return .function(method) }
    switch value {
    case .dict(let d):
      return d[name] ?? .undefined(hint: "'dict object' has no attribute '\(name)'")
    case .namespace(let ns):
      return ns.attributes[name] ?? .undefined(hint: "'Namespace object' has no attribute '\(name)'")
    default:
      return .undefined(hint: "'\(value.typeName) object' has no attribute '\(name)'")
    }
  }

  /// `value[index]`: dict keys, list/tuple/string positions (negative from the end); missing
  /// or mistyped: Undefined. Items of Undefined are an error.
  func item(of value: JinjaValue, _ index: JinjaValue, line: Int) throws(JinjaError) -> JinjaValue {
    if case .undefined(let hint) = value { throw JinjaError(.runtime, line: line, hint) }
    switch (value, index) {
    case (.dict(let d), .string(let k)):
      return d[k] ?? .undefined(hint: "'dict object' has no attribute '\(k)'")
    case (.namespace, .string(let k)):
      return try attribute(of: value, k, line: line)
    case (.list(let a), _), (.tuple(let a), _):
      guard let i = index.integer, let v = Self.element(a, i) else { break }
      return v
    case (.string(let s), _):
      guard let i = index.integer, let c = Self.element(JinjaStrings.scalars(s), i) else { break }
      return .string(String(c))
    default:
      break
    }
    return .undefined(hint: "'\(value.typeName) object' has no item \(index.repr)")
  }

  static func element<T>(_ a: [T], _ i: Int) -> T? {
    let k = i < 0 ? a.count + i : i
    return k >= 0 && k < a.count ? a[k] : nil
  }

  /// Python slicing of lists, tuples and strings, steps (including negative) included.
  func slice(_ value: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?, line: Int) throws(JinjaError) -> JinjaValue {
    func bound(_ v: JinjaValue?, _ what: String) throws(JinjaError) -> Int? {
      switch v {
      case nil, .none?, .undefined?: return nil
      default: break
      }
      guard let i = v?.integer else { throw JinjaError(.runtime, line: line, "slice \(what) must be an integer, not \(v?.typeName ?? "")") }
      return i
    }
    let s = try bound(step, "step") ?? 1
    guard s != 0 else { throw JinjaError(.runtime, line: line, "slice step cannot be zero") }
    func indices(_ n: Int) throws(JinjaError) -> [Int] {
      func clamp(_ i: Int?, _ dflt: Int) -> Int {
        guard var i else { return dflt }
        if i < 0 { i += n }
        return s > 0 ? min(max(i, 0), n) : min(max(i, -1), n - 1)
      }
      var k = clamp(try bound(start, "start"), s > 0 ? 0 : n - 1)
      let end = clamp(try bound(stop, "stop"), s > 0 ? n : -1)
      var out: [Int] = []
      while s > 0 ? k < end : k > end {
        out.append(k)
        k += s
      }
      return out
    }
    switch value {
    case .undefined(let hint): throw JinjaError(.runtime, line: line, hint)
    case .list(let a): return .list(try indices(a.count).map { a[$0] })
    case .tuple(let a): return .tuple(try indices(a.count).map { a[$0] })
    case .string(let str):
      let chars = JinjaStrings.scalars(str)
      return .string(JinjaStrings.string(try indices(chars.count).map { chars[$0] }))
    default: throw JinjaError(.runtime, line: line, "'\(value.typeName)' object cannot be sliced")
    }
  }
}
