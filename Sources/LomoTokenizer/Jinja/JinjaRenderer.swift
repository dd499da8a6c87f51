import Foundation

/// Bounds on one render, so a hostile template cannot run away: the output (and any string
/// built on the way) is at most `maxOutputBytes`, and the work (an evaluated expression or
/// statement is one unit, building a string or list costs one unit per 16 bytes or element)
/// is at most `maxWork`.
public struct JinjaLimits: Sendable {
  public var maxOutputBytes: Int
  public var maxWork: Int
  public init(maxOutputBytes: Int = 8 << 20, maxWork: Int = 5_000_000) {
    self.maxOutputBytes = maxOutputBytes
    self.maxWork = maxWork
  }
}

/// Renders parsed statements: variable scopes, loops, output, and the evaluation of expressions
/// (operators, filters, tests, methods and globals live in the extensions next to this file).
///
/// Scopes follow Jinja: a `for` loop's body has its own scope (a `set` inside it is not seen
/// after the loop; `namespace()` attributes are, being shared objects), `if` has none.
struct JinjaRenderer {
  enum Flow { case normal, breakLoop, continueLoop }

  var scopes: [[String: JinjaValue]]
  let limits: JinjaLimits
  let now: Date
  var work = 0
  var produced = 0
  /// The line of the statement or expression last charged for, which errors without a
  /// position of their own (the work bound, a dict key) report.
  var line = 1

  init(context: [String: JinjaValue], limits: JinjaLimits, now: Date) {
    self.limits = limits
    self.now = now
    scopes = [JinjaRenderer.globals(now: now).merging(context) { _, new in new }]
  }

  mutating func charge(_ units: Int, line: Int) throws(JinjaError) {
    if line > 0 { self.line = line }
    work += units
    if work > limits.maxWork {
      throw JinjaError(.limit, line: self.line, "rendering takes more than \(limits.maxWork) steps (a runaway loop?)")
    }
  }

  /// Charges for a value just built and refuses strings longer than the output bound.
  mutating func built(_ v: JinjaValue, line: Int) throws(JinjaError) -> JinjaValue {
    switch v {
    case .string(let s):
      let n = s.utf8.count
      if n > limits.maxOutputBytes {
        throw JinjaError(.limit, line: line, "a string of \(n) bytes exceeds the output limit of \(limits.maxOutputBytes) bytes")
      }
      try charge(1 + n / 16, line: line)
    case .list(let a), .tuple(let a): try charge(1 + a.count, line: line)
    default: try charge(1, line: line)
    }
    return v
  }

  func lookup(_ name: String) -> JinjaValue? {
    for scope in scopes.reversed() {
      if let v = scope[name] { return v }
    }
    return nil
  }

  mutating func assign(_ name: String, _ value: JinjaValue) {
    scopes[scopes.count - 1][name] = value
  }

  mutating func append(_ s: String, to out: inout String, line: Int) throws(JinjaError) {
    produced += s.utf8.count
    if produced > limits.maxOutputBytes {
      throw JinjaError(.limit, line: line, "the output exceeds \(limits.maxOutputBytes) bytes")
    }
    out += s
  }

  mutating func render(_ nodes: [JinjaNode], into out: inout String) throws(JinjaError) -> Flow {
    for node in nodes {
      let flow = try render(node, into: &out)
      if flow != .normal { return flow }
    }
    return .normal
  }

  mutating func render(_ node: JinjaNode, into out: inout String) throws(JinjaError) -> Flow {
    switch node {
    case .text(let t, let line):
      try charge(1, line: line)
      try append(t, to: &out, line: line)
    case .output(let e, let line):
      try append(try evaluate(e).str, to: &out, line: line)
    case .if(let branches, let otherwise):
      for branch in branches where try evaluate(branch.condition).truthy {
        return try render(branch.body, into: &out)
      }
      return try render(otherwise, into: &out)
    case .for(let target, let iterable, let filter, let body, let otherwise, let line):
      return try renderFor(target, iterable, filter, body, otherwise, line: line, into: &out)
    case .set(let target, let e, let line):
      try store(target, try evaluate(e), line: line)
    case .setBlock(let target, let body, let line):
      var captured = ""
      _ = try render(body, into: &captured)
      try store(target, .string(captured), line: line)
    case .break:
      return .breakLoop
    case .continue:
      return .continueLoop
    case .generation(let body):
      return try render(body, into: &out)
    }
    return .normal
  }

  mutating func renderFor(
    _ target: JinjaTarget, _ iterable: JinjaExpr, _ filter: JinjaExpr?, _ body: [JinjaNode],
    _ otherwise: [JinjaNode], line: Int, into out: inout String
  ) throws(JinjaError) -> Flow {
    let source = try evaluate(iterable)
    guard var items = source.iterated else {
      throw JinjaError(.runtime, line: line, "'\(source.typeName)' object is not iterable")
    }
    scopes.append([:])
    defer { scopes.removeLast() }
    if let filter {
      var kept: [JinjaValue] = []
      for item in items {
        try bind(target, item, line: line)
        if try evaluate(filter).truthy { kept.append(item) }
      }
      items = kept
    }
    guard !items.isEmpty else { return try render(otherwise, into: &out) }
    for (k, item) in items.enumerated() {
      try charge(1, line: line)
      try bind(target, item, line: line)
      assign("loop", Self.loopObject(index: k, items: items))
      if try render(body, into: &out) == .breakLoop { break }
    }
    return .normal
  }

  /// Jinja's `loop`: index (1-based), index0, revindex, revindex0, first, last, length,
  /// previtem/nextitem (Undefined at the ends) and cycle(…).
  static func loopObject(index k: Int, items: [JinjaValue]) -> JinjaValue {
    let n = items.count
    var d = JinjaDict()
    d["index"] = .int(k + 1)
    d["index0"] = .int(k)
    d["revindex"] = .int(n - k)
    d["revindex0"] = .int(n - k - 1)
    d["first"] = .bool(k == 0)
    d["last"] = .bool(k == n - 1)
    d["length"] = .int(n)
    d["previtem"] = k > 0 ? items[k - 1] : .undefined(hint: "there is no previous item")
    d["nextitem"] = k + 1 < n ? items[k + 1] : .undefined(hint: "there is no next item")
    d["cycle"] = .function(JinjaFunction(name: "loop.cycle") { args throws(JinjaError) in
      guard !args.positional.isEmpty else { throw JinjaError(.runtime, line: args.line, "loop.cycle needs at least one value") }
      return args.positional[k % args.positional.count]
    })
    return .dict(d)
  }

  /// Binds a loop variable: a name, or a tuple of names unpacking a list or tuple item.
  mutating func bind(_ target: JinjaTarget, _ value: JinjaValue, line: Int) throws(JinjaError) {
    switch target {
    case .name(let n):
      assign(n, value)
    case .tuple(let names):
      guard let parts = value.iterated, parts.count == names.count else {
        throw JinjaError(.runtime, line: line, "cannot unpack \(value.typeName) into \(names.count) names")
      }
      for (n, v) in zip(names, parts) { assign(n, v) }
    case .attribute:
      throw JinjaError(.syntax, line: line, "a loop variable cannot be an attribute")
    }
  }

  mutating func store(_ target: JinjaTarget, _ value: JinjaValue, line: Int) throws(JinjaError) {
    guard case .attribute(let object, let attribute) = target else { return try bind(target, value, line: line) }
    guard case .namespace(let ns)? = lookup(object) else {
      throw JinjaError(.runtime, line: line, "cannot set '\(attribute)' on '\(object)': only namespace() objects have assignable attributes")
    }
    ns.attributes[attribute] = value
  }
}
