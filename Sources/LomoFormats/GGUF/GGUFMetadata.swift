/// The key-value metadata of a GGUF file, in file order, with typed accessors that throw a
/// `GGUFError` naming the file and key when a key is missing or holds another type.
public struct GGUFMetadata: Sendable {
  /// The file the metadata came from, for error messages.
  public let path: String
  /// Keys in file order.
  public let keys: [String]
  private let values: [String: GGUFValue]

  init(path: String, keys: [String], values: [String: GGUFValue]) {
    self.path = path
    self.keys = keys
    self.values = values
  }

  public var count: Int { keys.count }

  public subscript(key: String) -> GGUFValue? { values[key] }

  public func contains(_ key: String) -> Bool { values[key] != nil }

  /// The raw value; throws `missingKey` when absent.
  public func value(_ key: String) throws(GGUFError) -> GGUFValue {
    guard let v = values[key] else { throw .missingKey(path: path, key: key) }
    return v
  }

  /// Any integer type whose value fits in `Int`.
  public func int(_ key: String) throws(GGUFError) -> Int {
    let v = try value(key)
    guard let i = v.intValue else { throw mismatch(key, "integer", v) }
    return i
  }

  /// float32 or float64 (narrowed to `Float`).
  public func float(_ key: String) throws(GGUFError) -> Float {
    Float(try double(key))
  }

  /// float32 or float64.
  public func double(_ key: String) throws(GGUFError) -> Double {
    let v = try value(key)
    guard let d = v.doubleValue else { throw mismatch(key, "float", v) }
    return d
  }

  public func bool(_ key: String) throws(GGUFError) -> Bool {
    let v = try value(key)
    guard let b = v.boolValue else { throw mismatch(key, "bool", v) }
    return b
  }

  public func string(_ key: String) throws(GGUFError) -> String {
    let v = try value(key)
    guard let s = v.stringValue else { throw mismatch(key, "string", v) }
    return s
  }

  /// The elements of an array value, of any element type.
  public func array(_ key: String) throws(GGUFError) -> [GGUFValue] {
    let v = try value(key)
    guard let a = v.arrayValue else { throw mismatch(key, "array", v) }
    return a
  }

  public func stringArray(_ key: String) throws(GGUFError) -> [String] {
    let v = try value(key)
    guard case .array(.string, let a) = v else { throw mismatch(key, "array of string", v) }
    return a.map { $0.stringValue! }
  }

  /// An array of any integer element type whose values fit in `Int`.
  public func intArray(_ key: String) throws(GGUFError) -> [Int] {
    let v = try value(key)
    guard case .array(let t, let a) = v, t != .array, t != .string, t != .bool,
      t != .float32, t != .float64
    else { throw mismatch(key, "array of integer", v) }
    var out: [Int] = []
    out.reserveCapacity(a.count)
    for e in a {
      guard let i = e.intValue else { throw mismatch(key, "array of integer fitting Int", v) }
      out.append(i)
    }
    return out
  }

  /// An array of float32 or float64 elements.
  public func floatArray(_ key: String) throws(GGUFError) -> [Float] {
    let v = try value(key)
    guard case .array(let t, let a) = v, t == .float32 || t == .float64 else {
      throw mismatch(key, "array of float", v)
    }
    return a.map { Float($0.doubleValue!) }
  }

  private func mismatch(_ key: String, _ expected: String, _ found: GGUFValue) -> GGUFError {
    .typeMismatch(path: path, key: key, expected: expected, found: found.typeDescription)
  }
}
