/// Jinja's tests (`x is name`): defined, undefined, none, string, number, integer, float,
/// boolean, true, false, mapping, iterable, sequence, callable, odd, even, divisibleby, lower,
/// upper, in, sameas and the comparisons (equalto/eq/==, ne/!=, lt/<, le/<=, gt/>, ge/>=).
extension JinjaRenderer {
  static let testNames: Set<String> = [
    "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "true", "false", "mapping",
    "iterable", "sequence", "callable", "odd", "even", "divisibleby", "lower", "upper", "in", "sameas", "equalto",
    "eq", "==", "ne", "!=", "lt", "<", "le", "<=", "gt", ">", "ge", ">=",
  ]

  func test(_ name: String, _ v: JinjaValue, _ a: JinjaCallArguments) throws(JinjaError) -> Bool {
    func other() throws(JinjaError) -> JinjaValue {
      guard let o = a.positional.first else { throw JinjaError(.runtime, line: a.line, "the test '\(name)' needs an argument") }
      return o
    }
    switch name {
    case "defined": return !v.isUndefined
    case "undefined": return v.isUndefined
    case "none": if case .none = v { return true } else { return false }
    case "string": if case .string = v { return true } else { return false }
    case "number": return v.number != nil
    case "integer": if case .int = v { return true } else { return false }
    case "float": if case .double = v { return true } else { return false }
    case "boolean": if case .bool = v { return true } else { return false }
    case "true": if case .bool(true) = v { return true } else { return false }
    case "false": if case .bool(false) = v { return true } else { return false }
    case "mapping": if case .dict = v { return true } else { return false }
    case "iterable": return v.iterated != nil
    case "sequence":
      switch v {
      case .string, .list, .tuple, .dict: return true
      default: return false
      }
    case "callable": if case .function = v { return true } else { return false }
    case "odd", "even":
      guard let i = v.integer else { throw JinjaError(.runtime, line: a.line, "the test '\(name)' needs an integer, not \(v.typeName)") }
      return (i % 2 != 0) == (name == "odd")
    case "divisibleby":
      guard let i = v.integer, let d = try other().integer, d != 0 else {
        throw JinjaError(.runtime, line: a.line, "divisibleby needs a non-zero integer divisor and an integer")
      }
      return i % d == 0
    case "lower", "upper":
      guard case .string(let s) = v else { return false }
      return name == "lower" ? s.lowercased() == s : s.uppercased() == s
    case "in": return try contains(try other(), v, line: a.line)
    case "sameas", "equalto", "eq", "==": return JinjaValue.equal(v, try other())
    case "ne", "!=": return !JinjaValue.equal(v, try other())
    case "lt", "<", "le", "<=", "gt", ">", "ge", ">=":
      let op = ["lt": "<", "le": "<=", "gt": ">", "ge": ">="][name] ?? name
      return try binary(op, v, try other(), line: a.line).truthy
    default:
      throw JinjaError(.runtime, line: a.line, "no test named '\(name)'")
    }
  }
}
