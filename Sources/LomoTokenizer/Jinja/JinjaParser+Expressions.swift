/// Expressions, with Jinja's precedence (lowest first): `a if b else c`, `or`, `and`, `not`,
/// comparisons and `in`/`not in`, `+ -`, `~`, `* / // %`, `**`, unary `- +`, then a primary
/// with its postfixes (`.attr`, `[index]`, `[a:b:c]`, `(args)`), and after a unary expression
/// its filters (`| name(args)`) and tests (`is [not] name args`). So `'a' + x | trim` trims `x`
/// and `not x is defined` negates the test.
extension JinjaParser {
  /// An expression, or a tuple when commas follow (`{{ a, b }}`, `set x = 1, 2`, `for … in a, b`).
  mutating func parseTuple(conditional: Bool) throws(JinjaError) -> JinjaExpr {
    let first = conditional ? try parseExpression() : try parseOr()
    guard isOp(",") else { return first }
    var items = [first]
    while skipOp(",") {
      if current.kind == .blockEnd || current.kind == .variableEnd || isName("if") { break }
      items.append(conditional ? try parseExpression() : try parseOr())
    }
    return .tuple(items)
  }

  mutating func parseExpression() throws(JinjaError) -> JinjaExpr {
    try nested { (p: inout JinjaParser) throws(JinjaError) in
      var e = try p.parseOr()
      while p.skipName("if") {
        let condition = try p.parseOr()
        let otherwise = p.skipName("else") ? try p.parseExpression() : nil
        e = .conditional(condition: condition, then: e, otherwise: otherwise)
      }
      return e
    }
  }

  mutating func parseOr() throws(JinjaError) -> JinjaExpr {
    var e = try parseAnd()
    while skipName("or") { e = .or(e, try parseAnd()) }
    return e
  }

  mutating func parseAnd() throws(JinjaError) -> JinjaExpr {
    var e = try parseNot()
    while skipName("and") { e = .and(e, try parseNot()) }
    return e
  }

  mutating func parseNot() throws(JinjaError) -> JinjaExpr {
    guard skipName("not") else { return try parseCompare() }
    return .not(try nested { (p: inout JinjaParser) throws(JinjaError) in try p.parseNot() })
  }

  mutating func parseCompare() throws(JinjaError) -> JinjaExpr {
    var e = try parseSum()
    while true {
      let opLine = line
      if case .op(let op) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
        advance()
        e = .binary(op, e, try parseSum(), line: opLine)
      } else if skipName("in") {
        e = .binary("in", e, try parseSum(), line: opLine)
      } else if isName("not"), position + 1 < tokens.count, tokens[position + 1].kind == .name("in") {
        position += 2
        e = .not(.binary("in", e, try parseSum(), line: opLine))
      } else {
        return e
      }
    }
  }

  mutating func parseSum() throws(JinjaError) -> JinjaExpr {
    var e = try parseConcat()
    while case .op(let op) = current.kind, op == "+" || op == "-" {
      let opLine = line
      advance()
      e = .binary(op, e, try parseConcat(), line: opLine)
    }
    return e
  }

  mutating func parseConcat() throws(JinjaError) -> JinjaExpr {
    var e = try parseProduct()
    while isOp("~") {
      let opLine = line
      advance()
      e = .binary("~", e, try parseProduct(), line: opLine)
    }
    return e
  }

  mutating func parseProduct() throws(JinjaError) -> JinjaExpr {
    var e = try parsePower()
    while case .op(let op) = current.kind, ["*", "/", "//", "%"].contains(op) {
      let opLine = line
      advance()
      e = .binary(op, e, try parsePower(), line: opLine)
    }
    return e
  }

  mutating func parsePower() throws(JinjaError) -> JinjaExpr {
    var e = try parseUnary(withFilters: true)
    while isOp("**") {
      let opLine = line
      advance()
      e = .binary("**", e, try parseUnary(withFilters: true), line: opLine)
    }
    return e
  }

  mutating func parseUnary(withFilters: Bool) throws(JinjaError) -> JinjaExpr {
    try nested { (p: inout JinjaParser) throws(JinjaError) in
      let opLine = p.line
      var e: JinjaExpr
      if p.isOp("-") || p.isOp("+") {
        let negate = p.isOp("-")
        p.advance()
        e = .unary(negate: negate, try p.parseUnary(withFilters: false), line: opLine)
      } else {
        e = try p.parsePrimary()
      }
      e = try p.parsePostfix(e)
      return withFilters ? try p.parseFilters(e) : e
    }
  }

  mutating func parsePrimary() throws(JinjaError) -> JinjaExpr {
    let token = current
    switch token.kind {
    case .name(let n):
      advance()
      switch n {
      case "true", "True": return .bool(true)
      case "false", "False": return .bool(false)
      case "none", "None": return .none
      default: return .name(n, line: token.line)
      }
    case .string(var s):
      advance()
      while case .string(let more) = current.kind {
        s += more
        advance()
      }
      return .string(s)
    case .integer(let v):
      advance()
      return .integer(v)
    case .float(let v):
      advance()
      return .float(v)
    case .op("("):
      advance()
      if skipOp(")") { return .tuple([]) }
      let first = try parseExpression()
      guard isOp(",") else {
        try expectOp(")")
        return first
      }
      var items = [first]
      while skipOp(","), !isOp(")") { items.append(try parseExpression()) }
      try expectOp(")")
      return .tuple(items)
    case .op("["):
      advance()
      var items: [JinjaExpr] = []
      while !isOp("]") {
        items.append(try parseExpression())
        guard skipOp(",") else { break }
      }
      try expectOp("]")
      return .list(items)
    case .op("{"):
      advance()
      var pairs: [(key: JinjaExpr, value: JinjaExpr)] = []
      while !isOp("}") {
        let key = try parseExpression()
        try expectOp(":")
        pairs.append((key, try parseExpression()))
        guard skipOp(",") else { break }
      }
      try expectOp("}")
      return .dict(pairs)
    default:
      throw unexpected(expecting: "an expression")
    }
  }

  mutating func parsePostfix(_ base: JinjaExpr) throws(JinjaError) -> JinjaExpr {
    var e = base
    while true {
      let opLine = line
      if skipOp(".") {
        switch current.kind {
        case .name(let n):
          advance()
          e = .attribute(e, n, line: opLine)
        case .integer(let k):
          advance()
          e = .subscript(e, .integer(k), line: opLine)
        default:
          throw unexpected(expecting: "an attribute name after '.'")
        }
      } else if skipOp("[") {
        e = try parseSubscript(e, line: opLine)
      } else if isOp("(") {
        e = .call(e, try parseArguments(), line: opLine)
      } else {
        return e
      }
    }
  }

  /// After `[`: an index, or a slice `start:stop:step` with any part left out.
  mutating func parseSubscript(_ base: JinjaExpr, line opLine: Int) throws(JinjaError) -> JinjaExpr {
    let start = isOp(":") ? nil : try parseExpression()
    guard skipOp(":") else {
      try expectOp("]")
      guard let start else { throw unexpected(expecting: "an index") }
      return .subscript(base, start, line: opLine)
    }
    let stop = isOp(":") || isOp("]") ? nil : try parseExpression()
    var step: JinjaExpr?
    if skipOp(":"), !isOp("]") { step = try parseExpression() }
    try expectOp("]")
    return .slice(base, start: start, stop: stop, step: step, line: opLine)
  }

  /// `( positional…, name=value… )`; `current` is the `(`.
  mutating func parseArguments() throws(JinjaError) -> JinjaArguments {
    try expectOp("(")
    var args = JinjaArguments()
    while !isOp(")") {
      if case .name(let n) = current.kind, position + 1 < tokens.count, tokens[position + 1].kind == .op("=") {
        position += 2
        args.keyword.append((n, try parseExpression()))
      } else {
        guard args.keyword.isEmpty else { throw JinjaError(.syntax, line: line, "a positional argument follows a keyword argument") }
        args.positional.append(try parseExpression())
      }
      guard skipOp(",") else { break }
    }
    try expectOp(")")
    return args
  }

  mutating func parseFilters(_ base: JinjaExpr) throws(JinjaError) -> JinjaExpr {
    var e = base
    while true {
      let opLine = line
      if skipOp("|") {
        let name = try expectName()
        guard JinjaRenderer.filterNames.contains(name) else { throw JinjaError(.syntax, line: opLine, "no filter named '\(name)'") }
        let args = isOp("(") ? try parseArguments() : JinjaArguments()
        e = .filter(e, name, args, line: opLine)
      } else if skipName("is") {
        let negated = skipName("not")
        let name = try expectName()
        guard JinjaRenderer.testNames.contains(name) else { throw JinjaError(.syntax, line: opLine, "no test named '\(name)'") }
        var args = JinjaArguments()
        if isOp("(") {
          args = try parseArguments()
        } else if startsTestArgument {
          args.positional = [try parsePostfix(try parsePrimary())]
        }
        e = .test(e, name, args, negated: negated, line: opLine)
      } else {
        return e
      }
    }
  }

  /// Whether a test name is followed by a single argument without parentheses
  /// (`x is divisibleby 3`, `x is equalto 'a'`), as Jinja decides it.
  private var startsTestArgument: Bool {
    switch current.kind {
    case .name(let n): !["else", "or", "and", "if", "in", "not", "is"].contains(n)
    case .string, .integer, .float, .op("["), .op("{"): true
    default: false
    }
  }
}
