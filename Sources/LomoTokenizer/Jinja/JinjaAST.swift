/// An expression of the Jinja subset; `line` fields say where it is written.
indirect enum JinjaExpr: Sendable {
  case string(String)
  case integer(Int)
  case float(Double)
  case bool(Bool)
  case none
  case list([JinjaExpr])
  case tuple([JinjaExpr])
  case dict([(key: JinjaExpr, value: JinjaExpr)])
  case name(String, line: Int)
  /// `object.name`.
  case attribute(JinjaExpr, String, line: Int)
  /// `object[index]`.
  case `subscript`(JinjaExpr, JinjaExpr, line: Int)
  /// `object[start:stop:step]`, each bound optional.
  case slice(JinjaExpr, start: JinjaExpr?, stop: JinjaExpr?, step: JinjaExpr?, line: Int)
  case call(JinjaExpr, JinjaArguments, line: Int)
  /// `value | name(arguments)`.
  case filter(JinjaExpr, String, JinjaArguments, line: Int)
  /// `value is [not] name(arguments)`.
  case test(JinjaExpr, String, JinjaArguments, negated: Bool, line: Int)
  /// `+ - * / // % ** ~ == != < <= > >= in`; `not in` is `.not(.binary("in"))`.
  case binary(String, JinjaExpr, JinjaExpr, line: Int)
  case and(JinjaExpr, JinjaExpr)
  case or(JinjaExpr, JinjaExpr)
  case not(JinjaExpr)
  /// Unary `-` (`negate: true`) or `+`.
  case unary(negate: Bool, JinjaExpr, line: Int)
  /// `then if condition else otherwise`; without `else`, an undefined value.
  case conditional(condition: JinjaExpr, then: JinjaExpr, otherwise: JinjaExpr?)
}

extension JinjaExpr {
  /// The line the expression is written on; 0 for literals and operators that carry none.
  var line: Int {
    switch self {
    case .name(_, let l), .attribute(_, _, let l), .subscript(_, _, let l), .slice(_, _, _, _, let l), .call(_, _, let l),
      .filter(_, _, _, let l), .test(_, _, _, _, let l), .binary(_, _, _, let l), .unary(_, _, let l):
      l
    default: 0
    }
  }
}

/// Positional and keyword arguments of a call, filter or test.
struct JinjaArguments: Sendable {
  var positional: [JinjaExpr] = []
  var keyword: [(name: String, value: JinjaExpr)] = []
}

/// Where a `for` loop or `set` stores values: a name, `namespace.attribute`, or a tuple of names.
enum JinjaTarget: Sendable {
  case name(String)
  case attribute(String, String)
  case tuple([String])
}

/// A statement of the template body.
indirect enum JinjaNode: Sendable {
  case text(String, line: Int)
  case output(JinjaExpr, line: Int)
  case `if`([(condition: JinjaExpr, body: [JinjaNode])], otherwise: [JinjaNode])
  case `for`(JinjaTarget, in: JinjaExpr, filter: JinjaExpr?, body: [JinjaNode], otherwise: [JinjaNode], line: Int)
  case set(JinjaTarget, JinjaExpr, line: Int)
  /// `{% set name %}body{% endset %}`.
  case setBlock(JinjaTarget, [JinjaNode], line: Int)
  case `break`(line: Int)
  case `continue`(line: Int)
  /// transformers' `{% generation %}…{% endgeneration %}`: renders its body unchanged.
  case generation([JinjaNode])
}
