/// Methods templates call on values: `str.strip/lstrip/rstrip/split/startswith/endswith/upper/
/// lower/replace/title/capitalize/find/count/join` and `dict.get/items/keys/values`. The
/// mutating methods (`append`, `pop`, `update`…) are not offered, as in transformers'
/// immutable sandbox.
extension JinjaRenderer {
  static func method(of value: JinjaValue, _ name: String) -> JinjaFunction? {
    switch value {
    case .string(let s): stringMethod(s, name)
    case .dict(let d): dictMethod(d, name)
    default: nil
    }
  }

  static func stringMethod(_ s: String, _ name: String) -> JinjaFunction? {
    func f(_ body: @escaping (JinjaCallArguments) throws(JinjaError) -> JinjaValue) -> JinjaFunction {
      JinjaFunction(name: "str.\(name)", call: body)
    }
    switch name {
    case "strip", "lstrip", "rstrip":
      return f { a throws(JinjaError) in
        try a.check(atMost: 1, names: ["chars"])
        return .string(JinjaStrings.strip(s, try a.string(0, "chars"), leading: name != "rstrip", trailing: name != "lstrip"))
      }
    case "split":
      return f { a throws(JinjaError) in
        try a.check(atMost: 2, names: ["sep", "maxsplit"])
        let sep = try a.string(0, "sep")
        if sep == "" { throw JinjaError(.runtime, line: a.line, "str.split: empty separator") }
        return .list(JinjaStrings.split(s, sep, maxSplit: try a.int(1, "maxsplit") ?? -1).map(JinjaValue.string))
      }
    case "startswith", "endswith":
      return f { a throws(JinjaError) in
        try a.check(atMost: 1)
        let candidates: [JinjaValue]
        switch a.argument(0, "prefix") {
        case .string?: candidates = [a.positional[0]]
        case .tuple(let t)?: candidates = t
        default: throw JinjaError(.runtime, line: a.line, "str.\(name) needs a string or a tuple of strings")
        }
        for c in candidates {
          guard case .string(let p) = c else { throw JinjaError(.runtime, line: a.line, "str.\(name): \(c.typeName) is not a string") }
          if name == "startswith" ? JinjaStrings.hasPrefix(s, p) : JinjaStrings.hasSuffix(s, p) { return .bool(true) }
        }
        return .bool(false)
      }
    case "upper", "lower", "title", "capitalize":
      return f { a throws(JinjaError) in
        try a.check(atMost: 0)
        switch name {
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title": return .string(JinjaStrings.title(s))
        default: return .string(JinjaStrings.capitalize(s))
        }
      }
    case "replace":
      return f { a throws(JinjaError) in
        try a.check(atMost: 3, names: ["count"])
        guard let old = try a.string(0, "old"), let new = try a.string(1, "new") else {
          throw JinjaError(.runtime, line: a.line, "str.replace needs the old and new strings")
        }
        return .string(JinjaStrings.replace(s, old, new, count: try a.int(2, "count") ?? -1))
      }
    case "find", "count":
      return f { a throws(JinjaError) in
        try a.check(atMost: 1)
        guard let sub = try a.string(0, "sub") else { throw JinjaError(.runtime, line: a.line, "str.\(name) needs a string") }
        let hay = JinjaStrings.scalars(s)
        let needle = JinjaStrings.scalars(sub)
        if needle.isEmpty { return .int(name == "find" ? 0 : hay.count + 1) }
        let at = JinjaStrings.occurrences(hay, needle, limit: name == "find" ? 1 : .max)
        return .int(name == "find" ? at.first ?? -1 : at.count)
      }
    case "join":
      return f { a throws(JinjaError) in
        try a.check(atMost: 1)
        guard let items = a.argument(0, "iterable")?.iterated else { throw JinjaError(.runtime, line: a.line, "str.join needs an iterable") }
        return .string(try items.map { (v: JinjaValue) throws(JinjaError) -> String in
          guard case .string(let t) = v else { throw JinjaError(.runtime, line: a.line, "str.join: expected str instance, \(v.typeName) found") }
          return t
        }.joined(separator: s))
      }
    default:
      return nil
    }
  }

  static func dictMethod(_ d: JinjaDict, _ name: String) -> JinjaFunction? {
    switch name {
    case "get":
      return JinjaFunction(name: "dict.get") { a throws(JinjaError) in
        try a.check(atMost: 2)
        guard case .string(let k)? = a.argument(0, "key") else { return a.argument(1, "default") ?? .none }
        return d[k] ?? a.argument(1, "default") ?? .none
      }
    case "items", "keys", "values":
      return JinjaFunction(name: "dict.\(name)") { a throws(JinjaError) in
        try a.check(atMost: 0)
        switch name {
        case "items": return .list(d.pairs.map { .tuple([.string($0.key), $0.value]) })
        case "keys": return .list(d.keys.map(JinjaValue.string))
        default: return .list(d.pairs.map(\.value))
        }
      }
    default:
      return nil
    }
  }
}
