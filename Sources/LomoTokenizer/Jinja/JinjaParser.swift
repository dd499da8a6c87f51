/// Parses template tokens into statements: text, `{{ … }}`, and the block tags `if/elif/else`,
/// `for … in … [if …]` with `else`, `set` (plain, `ns.attr`, tuples and `{% set x %}…{% endset %}`),
/// `break`/`continue` (transformers enables Jinja's loop controls) and `generation`.
/// Nesting deeper than `maxDepth` (blocks or expressions) is a `.limit` error, so hostile input
/// cannot exhaust the stack.
struct JinjaParser {
  static let maxDepth = 64

  let tokens: [JinjaToken]
  var position = 0
  var depth = 0
  /// How many `for` bodies enclose the current position (`break`/`continue` need one).
  var loops = 0

  init(_ tokens: [JinjaToken]) { self.tokens = tokens }

  /// The statements of a whole template.
  static func parse(_ source: String) throws(JinjaError) -> [JinjaNode] {
    var parser = JinjaParser(try JinjaLexer.tokenize(source))
    let (body, _) = try parser.parseBody(until: [], opened: nil)
    return body
  }

  var current: JinjaToken { tokens[min(position, tokens.count - 1)] }
  var line: Int { current.line }

  mutating func advance() { position += 1 }

  func isOp(_ op: String) -> Bool { current.kind == .op(op) }
  func isName(_ name: String) -> Bool { current.kind == .name(name) }

  mutating func skipOp(_ op: String) -> Bool {
    guard isOp(op) else { return false }
    advance()
    return true
  }

  mutating func skipName(_ name: String) -> Bool {
    guard isName(name) else { return false }
    advance()
    return true
  }

  mutating func expectOp(_ op: String) throws(JinjaError) {
    guard skipOp(op) else { throw unexpected(expecting: "'\(op)'") }
  }

  mutating func expectName() throws(JinjaError) -> String {
    guard case .name(let n) = current.kind else { throw unexpected(expecting: "a name") }
    advance()
    return n
  }

  mutating func expectBlockEnd() throws(JinjaError) {
    guard current.kind == .blockEnd else { throw unexpected(expecting: "'%}'") }
    advance()
  }

  func unexpected(expecting what: String) -> JinjaError {
    JinjaError(.syntax, line: line, "expected \(what), found \(current.spelling)")
  }

  /// Runs `body` one nesting level deeper, refusing to go past `maxDepth`.
  mutating func nested<T>(_ body: (inout JinjaParser) throws(JinjaError) -> T) throws(JinjaError) -> T {
    guard depth < Self.maxDepth else {
      throw JinjaError(.limit, line: line, "the template nests deeper than \(Self.maxDepth) levels")
    }
    depth += 1
    defer { depth -= 1 }
    return try body(&self)
  }

  /// Statements up to one of the block tags in `endTags` (its name consumed, the rest of that
  /// tag left for the caller), or to the end of the template when `endTags` is empty.
  /// `opened` names the block being parsed and its line, for the error when it is never closed.
  mutating func parseBody(until endTags: Set<String>, opened: (tag: String, line: Int)?) throws(JinjaError) -> ([JinjaNode], String?) {
    var nodes: [JinjaNode] = []
    while true {
      let token = current
      switch token.kind {
      case .text(let t):
        advance()
        nodes.append(.text(t, line: token.line))
      case .variableBegin:
        advance()
        let e = try parseTuple(conditional: true)
        guard current.kind == .variableEnd else { throw unexpected(expecting: "'}}'") }
        advance()
        nodes.append(.output(e, line: token.line))
      case .blockBegin:
        advance()
        let tagLine = line
        let tag = try expectName()
        if endTags.contains(tag) { return (nodes, tag) }
        nodes.append(try nested { (p: inout JinjaParser) throws(JinjaError) in try p.parseStatement(tag, line: tagLine) })
      case .end:
        if let opened {
          throw JinjaError(.syntax, line: opened.line, "'\(opened.tag)' is never closed (expected one of \(endTags.sorted().map { "'\($0)'" }.joined(separator: ", ")))")
        }
        return (nodes, nil)
      default:
        throw unexpected(expecting: "template text or a tag")
      }
    }
  }

  mutating func parseStatement(_ tag: String, line tagLine: Int) throws(JinjaError) -> JinjaNode {
    switch tag {
    case "if": return try parseIf(line: tagLine)
    case "for": return try parseFor(line: tagLine)
    case "set": return try parseSet(line: tagLine)
    case "break", "continue":
      guard loops > 0 else { throw JinjaError(.syntax, line: tagLine, "'\(tag)' outside a for loop") }
      try expectBlockEnd()
      return tag == "break" ? .break(line: tagLine) : .continue(line: tagLine)
    case "generation":
      try expectBlockEnd()
      let (body, _) = try parseBody(until: ["endgeneration"], opened: ("generation", tagLine))
      try expectBlockEnd()
      return .generation(body)
    case "endif", "endfor", "endset", "elif", "else", "endgeneration", "endmacro":
      throw JinjaError(.syntax, line: tagLine, "unexpected '\(tag)' (no open block it closes)")
    default:
      throw JinjaError(.syntax, line: tagLine, "unsupported tag '\(tag)'")
    }
  }

  mutating func parseIf(line tagLine: Int) throws(JinjaError) -> JinjaNode {
    var branches: [(condition: JinjaExpr, body: [JinjaNode])] = []
    var condition = try parseTuple(conditional: true)
    while true {
      try expectBlockEnd()
      let (body, end) = try parseBody(until: ["elif", "else", "endif"], opened: ("if", tagLine))
      branches.append((condition, body))
      switch end {
      case "elif":
        condition = try parseTuple(conditional: true)
      case "else":
        try expectBlockEnd()
        let (otherwise, _) = try parseBody(until: ["endif"], opened: ("if", tagLine))
        try expectBlockEnd()
        return .if(branches, otherwise: otherwise)
      default:
        try expectBlockEnd()
        return .if(branches, otherwise: [])
      }
    }
  }

  mutating func parseFor(line tagLine: Int) throws(JinjaError) -> JinjaNode {
    let target = try parseTarget(allowAttribute: false)
    guard skipName("in") else { throw unexpected(expecting: "'in'") }
    let iterable = try parseTuple(conditional: false)
    let filter = skipName("if") ? try parseTuple(conditional: true) : nil
    if isName("recursive") { throw JinjaError(.syntax, line: line, "recursive for loops are not supported") }
    try expectBlockEnd()
    loops += 1
    let (body, end) = try parseBody(until: ["endfor", "else"], opened: ("for", tagLine))
    loops -= 1
    var otherwise: [JinjaNode] = []
    if end == "else" {
      try expectBlockEnd()
      (otherwise, _) = try parseBody(until: ["endfor"], opened: ("for", tagLine))
    }
    try expectBlockEnd()
    return .for(target, in: iterable, filter: filter, body: body, otherwise: otherwise, line: tagLine)
  }

  mutating func parseSet(line tagLine: Int) throws(JinjaError) -> JinjaNode {
    let target = try parseTarget(allowAttribute: true)
    if skipOp("=") {
      let value = try parseTuple(conditional: true)
      try expectBlockEnd()
      return .set(target, value, line: tagLine)
    }
    try expectBlockEnd()
    let (body, _) = try parseBody(until: ["endset"], opened: ("set", tagLine))
    try expectBlockEnd()
    return .setBlock(target, body, line: tagLine)
  }

  /// `name`, `name.attribute` (set only), `a, b` or `(a, b)`.
  mutating func parseTarget(allowAttribute: Bool) throws(JinjaError) -> JinjaTarget {
    let parenthesized = skipOp("(")
    let first = try expectName()
    if allowAttribute && !parenthesized && skipOp(".") {
      return .attribute(first, try expectName())
    }
    var names = [first]
    while skipOp(",") {
      if case .name = current.kind { names.append(try expectName()) } else { break }
    }
    if parenthesized { try expectOp(")") }
    return names.count == 1 && !parenthesized ? .name(first) : .tuple(names)
  }
}
