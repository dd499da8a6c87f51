/// A JSON value that keeps strings and numbers exactly as written.
///
/// Foundation is unsuitable for the files lomo reads: its JSON serialization and decoder
/// return objects as `[String: ...]`, whose keys compare by Unicode canonical equivalence, so
/// the tokenizer vocabulary entries ";" and U+037E (or "é" and "e\u{301}") collapse into one;
/// its serialization on Linux drops a leading U+FEFF from strings; and both read integers
/// through `Double` or by guessing. Here object members stay in file order as (key, value)
/// pairs, strings are never normalised, and a number keeps its literal (`JSONNumber`).
///
/// Equality is exact: strings and keys compare by UTF-8 bytes, objects member by member in
/// order, numbers by their literal text.
public enum JSONValue: Sendable {
  case null
  case bool(Bool)
  case number(JSONNumber)
  case string(String)
  case array([JSONValue])
  case object(JSONObject)

  /// "null", "a boolean", "a number", "a string", "an array" or "an object", for messages.
  public var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .number: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }

  public var isNull: Bool { if case .null = self { true } else { false } }
  public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
  public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
  public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
}

extension JSONValue: Equatable {
  public static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): true
    case (.bool(let x), .bool(let y)): x == y
    case (.number(let x), .number(let y)): x == y
    case (.string(let x), .string(let y)): x.utf8.elementsEqual(y.utf8)
    case (.array(let x), .array(let y)): x == y
    case (.object(let x), .object(let y)): x == y
    default: false
    }
  }
}

/// Object members in order (file order when parsed, insertion order when built). Lookup
/// compares keys by UTF-8 bytes and is linear; with duplicate keys the last wins, as in
/// serde_json (what Hugging Face `tokenizers` uses).
public struct JSONObject: Sendable, Equatable {
  public var members: [(key: String, value: JSONValue)]

  public init(_ members: [(key: String, value: JSONValue)] = []) { self.members = members }

  public var count: Int { members.count }

  /// The value of the last member named `key`; setting replaces that member, or appends one.
  public subscript(key: String) -> JSONValue? {
    get { members.last { $0.key.utf8.elementsEqual(key.utf8) }?.value }
    set {
      let at = members.lastIndex { $0.key.utf8.elementsEqual(key.utf8) }
      switch (at, newValue) {
      case (let i?, let v?): members[i].value = v
      case (let i?, nil): members.remove(at: i)
      case (nil, let v?): members.append((key, v))
      case (nil, nil): break
      }
    }
  }

  public static func == (a: JSONObject, b: JSONObject) -> Bool {
    a.members.count == b.members.count
      && zip(a.members, b.members).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value }
  }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  /// Members in the literal's order (duplicates kept, the last wins on lookup).
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
  }
  public init(nilLiteral: ()) { self = .null }
}
