import Foundation
import LomoCore

/// A parsed Jinja template (the subset chat templates use), rendered the way transformers'
/// `apply_chat_template` renders: Jinja's default Undefined, `trim_blocks` and `lstrip_blocks`,
/// loop controls, transformers' `tojson`, `raise_exception` and `strftime_now`.
///
/// Parsing is done once, in `init`; unknown tags, filters and tests are syntax errors there.
/// Errors never trap: each is a `JinjaError` with its line. Rendering is bounded by `limits`.
public struct JinjaTemplate: Sendable {
  let body: [JinjaNode]

  public init(_ source: String) throws(JinjaError) {
    body = try JinjaParser.parse(source)
  }

  /// Renders with `context` as the template's variables (JSON objects become dicts in member
  /// order, integer literals ints, other numbers floats); `now` is what `strftime_now` formats.
  public func render(_ context: [String: JSONValue], now: Date = Date(), limits: JinjaLimits = JinjaLimits()) throws(JinjaError) -> String {
    try render(values: context.mapValues(JinjaValue.init(json:)), now: now, limits: limits)
  }

  func render(values: [String: JinjaValue], now: Date, limits: JinjaLimits) throws(JinjaError) -> String {
    var renderer = JinjaRenderer(context: values, limits: limits, now: now)
    var out = ""
    _ = try renderer.render(body, into: &out)  // the parser allows break/continue only in loops
    return out
  }
}

extension JinjaValue {
  init(json: JSONValue) {
    switch json {
    case .null: self = .none
    case .bool(let b): self = .bool(b)
    case .number(let n): self = n.integer().map(JinjaValue.int) ?? .double(n.double)
    case .string(let s): self = .string(s)
    case .array(let a): self = .list(a.map(JinjaValue.init(json:)))
    case .object(let o): self = .dict(JinjaDict(o.members.map { ($0.key, JinjaValue(json: $0.value)) }))
    }
  }
}
