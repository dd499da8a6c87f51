import Foundation

/// A parsed JSON value that keeps booleans, numbers and strings apart (Foundation's
/// JSONSerialization conflates booleans and numbers on some platforms).
public enum JSONValue: Sendable, Equatable, Decodable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() { self = .null }
    else if let b = try? c.decode(Bool.self) { self = .bool(b) }
    else if let d = try? c.decode(Double.self) { self = .number(d) }
    else if let s = try? c.decode(String.self) { self = .string(s) }
    else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
    else { self = .object(try c.decode([String: JSONValue].self)) }
  }

  var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .number: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }
}

/// Typed access to the fields of one JSON object, throwing `RecordProblem`s that name the
/// field by its dotted path.
struct JSONFields {
  let fields: [String: JSONValue]
  let path: String

  init(_ fields: [String: JSONValue], path: String = "") {
    self.fields = fields
    self.path = path
  }

  init(_ value: JSONValue, path: String) throws {
    guard case .object(let o) = value else {
      throw RecordProblem(.invalidField(path, "expected an object, found \(value.typeName)"))
    }
    self.init(o, path: path)
  }

  func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

  /// Rejects any key outside `allowed`.
  func only(_ allowed: Set<String>) throws {
    if let extra = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
      throw RecordProblem(.unknownField(name(extra)))
    }
  }

  func value(_ key: String) throws -> JSONValue {
    guard let v = fields[key], v != .null else { throw RecordProblem(.missingField(name(key))) }
    return v
  }

  func has(_ key: String) -> Bool { fields[key].map { $0 != .null } ?? false }

  func string(_ key: String) throws -> String {
    let v = try value(key)
    guard case .string(let s) = v else { throw wrongType(key, "a string", v) }
    return s
  }

  func bool(_ key: String) throws -> Bool {
    let v = try value(key)
    switch v {
    case .bool(let b): return b
    case .number(0): return false
    case .number(1): return true
    default: throw wrongType(key, "true/false or 0/1", v)
    }
  }

  func int(_ key: String) throws -> Int { try Self.int(try value(key), name: name(key)) }

  static func int(_ v: JSONValue, name: String) throws -> Int {
    guard case .number(let d) = v, d.rounded() == d, abs(d) < 9.0e15 else {
      throw RecordProblem(.invalidField(name, "expected an integer, found \(v.typeName == "a number" ? "a fraction" : v.typeName)"))
    }
    return Int(d)
  }

  func array(_ key: String) throws -> [JSONValue] {
    let v = try value(key)
    guard case .array(let a) = v else { throw wrongType(key, "an array", v) }
    return a
  }

  func object(_ key: String) throws -> JSONFields { try JSONFields(try value(key), path: name(key)) }

  func wrongType(_ key: String, _ expected: String, _ v: JSONValue) -> RecordProblem {
    RecordProblem(.invalidField(name(key), "expected \(expected), found \(v.typeName)"))
  }
}
