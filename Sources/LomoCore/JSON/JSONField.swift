/// A JSON value with its path, for typed reading: every accessor either returns the value as
/// the asked type or throws a `JSONError` naming the path, what was expected and what was found.
///
/// ```swift
/// let config = try JSONField(JSONValue(parsing: bytes))
/// let factor = try config["rope_scaling"]["factor"].double()   // "rope_scaling.factor: missing"
/// let window = try config["sliding_window"].ifPresent?.integer() // nil when absent or null
/// ```
///
/// A missing key gives a field whose `value` is nil; null counts as absent for every accessor.
/// A key looked up in a value that is not an object reports that value: `n: expected an
/// object, found a number`. The path is built only when an error needs it.
public struct JSONField: Sendable {
  /// The value, nil when the key or index is absent.
  public let value: JSONValue?
  private let parent: String
  private let component: Component?
  /// The JSON type of the parent when it is present but not an object (a key lookup in it).
  private let parentType: String?

  private enum Component: Sendable {
    case key(String)
    case index(Int)
  }

  /// The root of a document; `path` prefixes every error path (e.g. "$" gives "$.model.vocab").
  public init(_ value: JSONValue, path: String = "") {
    self.value = value
    parent = path
    component = nil
    parentType = nil
  }

  private init(_ value: JSONValue?, parent: String, _ component: Component, parentType: String? = nil) {
    self.value = value
    self.parent = parent
    self.component = component
    self.parentType = parentType
  }

  /// Where this value is, e.g. `messages[0].role`.
  public var path: String {
    switch component {
    case nil: parent
    case .key(let k): JSONPath.appending(k, to: parent)
    case .index(let i): JSONPath.appending(i, to: parent)
    }
  }

  public func error(_ problem: JSONError.Problem) -> JSONError { JSONError(path: path, problem) }

  /// The member `key` of an object (absent when this has no such member, or is not an
  /// object; the accessors of the result then say which).
  public subscript(key: String) -> JSONField {
    let notObject = value.flatMap { v in v.objectValue == nil && !v.isNull ? v.typeName : nil }
    return JSONField(value?.objectValue?[key], parent: path, .key(key), parentType: notObject)
  }

  /// Whether the value is present and not null.
  public var isPresent: Bool { value.map { !$0.isNull } ?? false }

  /// Self when present and not null, else nil: `try f["x"].ifPresent?.bool() ?? false`.
  public var ifPresent: JSONField? { isPresent ? self : nil }

  private func present() throws(JSONError) -> JSONValue {
    if let parentType { throw JSONError(path: parent, .wrongType(expected: "an object", found: parentType)) }
    guard let value, !value.isNull else { throw error(.missing) }
    return value
  }

  private func wrongType(_ expected: String, _ v: JSONValue) -> JSONError {
    error(.wrongType(expected: expected, found: v.typeName))
  }

  public func string() throws(JSONError) -> String {
    let v = try present()
    guard case .string(let s) = v else { throw wrongType("a string", v) }
    return s
  }

  public func bool() throws(JSONError) -> Bool {
    let v = try present()
    guard case .bool(let b) = v else { throw wrongType("a boolean", v) }
    return b
  }

  public func number() throws(JSONError) -> JSONNumber {
    let v = try present()
    guard case .number(let n) = v else { throw wrongType("a number", v) }
    return n
  }

  /// The nearest `Double`; a literal beyond Double's range is an error, not an infinity.
  public func double() throws(JSONError) -> Double {
    let n = try number()
    let d = n.double
    guard d.isFinite else { throw error(.invalid("\(n) is outside the range of Double")) }
    return d
  }

  /// The nearest `Float` (rounded once from the literal); beyond Float's range is an error.
  public func float() throws(JSONError) -> Float {
    let n = try number()
    let f = n.float
    guard f.isFinite else { throw error(.invalid("\(n) is outside the range of Float")) }
    return f
  }

  /// An integer that `T` holds exactly (see `JSONNumber.integer`): a fraction is
  /// "expected an integer, found a fraction", a value out of range names `T`.
  public func integer<T: FixedWidthInteger>(_ type: T.Type = Int.self) throws(JSONError) -> T {
    let v = try present()
    guard case .number(let n) = v else { throw wrongType("an integer", v) }
    if let i = n.integer(T.self) { return i }
    let d = n.double
    guard !d.isFinite || d == d.rounded() else { throw error(.wrongType(expected: "an integer", found: "a fraction")) }
    throw error(.invalid("\(n) is outside the range of \(T.self)"))
  }

  /// The elements, each with its index path.
  public func array() throws(JSONError) -> [JSONField] {
    let v = try present()
    guard case .array(let a) = v else { throw wrongType("an array", v) }
    let here = path
    return a.enumerated().map { JSONField($1, parent: here, .index($0)) }
  }

  /// The members in order, each with its key path (duplicates included, as written).
  public func members() throws(JSONError) -> [(key: String, value: JSONField)] {
    let o = try object()
    let here = path
    return o.members.map { ($0.key, JSONField($0.value, parent: here, .key($0.key))) }
  }

  /// The object itself, for lookups without paths.
  public func object() throws(JSONError) -> JSONObject {
    let v = try present()
    guard case .object(let o) = v else { throw wrongType("an object", v) }
    return o
  }

  /// Throws `.unknownKey` at the first key (in sorted order) outside `allowed`.
  public func only(_ allowed: Set<String>) throws(JSONError) {
    let keys = try object().members.map(\.key)
    if let extra = keys.sorted().first(where: { !allowed.contains($0) }) {
      throw self[extra].error(.unknownKey)
    }
  }
}
