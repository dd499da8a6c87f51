/// `Codable` types read from and written to `JSONValue`, with the strictness of `JSONField`
/// (integers must be integral and in range, floats must be finite, null counts as absent) and
/// its paths in errors: `state.options.batchSize: expected an integer, found a string`.
/// Keys are the coding keys (property names unless a type says otherwise); unknown keys are
/// ignored on reading, as by Foundation's decoder.
extension JSONField {
  /// Decodes a `T` from this value. Errors thrown by `T`'s own `init(from:)` (a raw value that
  /// names no case) become `.invalid` with their coding path.
  public func decode<T: Decodable>(_ type: T.Type = T.self) throws(JSONError) -> T {
    do {
      return try T(from: FieldDecoder(self, codingPath: []))
    } catch let e as JSONError {
      throw e
    } catch let e as DecodingError {
      let context: DecodingError.Context? = switch e {
      case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c): c
      @unknown default: nil
      }
      throw JSONError(path: JSONPath.of(context?.codingPath ?? [], root: path), .invalid(context?.debugDescription ?? "\(e)"))
    } catch {
      throw JSONError(path: path, .invalid("\(error)"))
    }
  }
}

extension JSONValue {
  /// The JSON form of `value`: objects keep the order in which `value` encodes its keys
  /// (declaration order for synthesized conformances; write with `.sortedKeys` when a
  /// dictionary is among them), floats must be finite.
  public init(encoding value: some Encodable) throws(JSONError) {
    let root = EncodingNode()
    do {
      try value.encode(to: NodeEncoder(root, codingPath: []))
    } catch let e as JSONError {
      throw e
    } catch {
      throw JSONError(path: "", .invalid("\(error)"))
    }
    self = root.value
  }
}

/// The coding key of an array element; `JSONPath.of` prints it as `[i]`.
struct JSONIndexKey: CodingKey {
  let intValue: Int?
  var stringValue: String { "\(intValue ?? 0)" }
  init(_ index: Int) { intValue = index }
  init?(intValue: Int) { self.intValue = intValue }
  init?(stringValue: String) { nil }
}

extension JSONPath {
  static func of(_ keys: [any CodingKey], root: String) -> String {
    keys.reduce(root) { path, key in
      if key is JSONIndexKey, let i = key.intValue { appending(i, to: path) } else { appending(key.stringValue, to: path) }
    }
  }
}

// MARK: - Decoding

private struct FieldDecoder: Decoder {
  let field: JSONField
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  init(_ field: JSONField, codingPath: [any CodingKey]) {
    self.field = field
    self.codingPath = codingPath
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    KeyedDecodingContainer(KeyedFieldDecoder<Key>(field: field, object: try field.object(), codingPath: codingPath))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    UnkeyedFieldDecoder(field: field, elements: try field.array(), codingPath: codingPath)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
}

extension FieldDecoder: SingleValueDecodingContainer {
  func decodeNil() -> Bool { !field.isPresent }
  func decode(_ type: Bool.Type) throws -> Bool { try field.bool() }
  func decode(_ type: String.Type) throws -> String { try field.string() }
  func decode(_ type: Double.Type) throws -> Double { try field.double() }
  func decode(_ type: Float.Type) throws -> Float { try field.float() }
  func decode(_ type: Int.Type) throws -> Int { try field.integer(type) }
  func decode(_ type: Int8.Type) throws -> Int8 { try field.integer(type) }
  func decode(_ type: Int16.Type) throws -> Int16 { try field.integer(type) }
  func decode(_ type: Int32.Type) throws -> Int32 { try field.integer(type) }
  func decode(_ type: Int64.Type) throws -> Int64 { try field.integer(type) }
  func decode(_ type: UInt.Type) throws -> UInt { try field.integer(type) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { try field.integer(type) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { try field.integer(type) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { try field.integer(type) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { try field.integer(type) }
  func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }
}

private struct KeyedFieldDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let field: JSONField
  let object: JSONObject
  let codingPath: [any CodingKey]

  var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.key) } }
  func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

  func child(_ key: any CodingKey) -> FieldDecoder {
    FieldDecoder(field[key.stringValue], codingPath: codingPath + [key])
  }

  func decodeNil(forKey key: Key) throws -> Bool { child(key).decodeNil() }
  func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decode(type) }
  func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).decode(type) }
  func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).decode(type) }
  func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).decode(type) }
  func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).decode(type) }
  func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).decode(type) }
  func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).decode(type) }
  func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).decode(type) }
  func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).decode(type) }
  func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).decode(type) }
  func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).decode(type) }
  func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).decode(type) }
  func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).decode(type) }
  func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).decode(type) }
  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }

  func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
    -> KeyedDecodingContainer<NestedKey>
  {
    try child(key).container(keyedBy: type)
  }

  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    try child(key).unkeyedContainer()
  }

  func superDecoder() throws -> any Decoder { child(JSONSuperKey()) }
  func superDecoder(forKey key: Key) throws -> any Decoder { child(key) }
}

/// The key of `superDecoder()` / `superEncoder()`, "super" as in Foundation.
private struct JSONSuperKey: CodingKey {
  var stringValue: String { "super" }
  var intValue: Int? { nil }
  init() {}
  init?(stringValue: String) { nil }
  init?(intValue: Int) { nil }
}

private struct UnkeyedFieldDecoder: UnkeyedDecodingContainer {
  let field: JSONField
  let elements: [JSONField]
  let codingPath: [any CodingKey]
  private(set) var currentIndex = 0

  init(field: JSONField, elements: [JSONField], codingPath: [any CodingKey]) {
    self.field = field
    self.elements = elements
    self.codingPath = codingPath
  }

  var count: Int? { elements.count }
  var isAtEnd: Bool { currentIndex >= elements.count }

  mutating func next() throws -> FieldDecoder {
    guard !isAtEnd else {
      throw JSONError(path: JSONPath.appending(currentIndex, to: field.path), .missing)
    }
    defer { currentIndex += 1 }
    return FieldDecoder(elements[currentIndex], codingPath: codingPath + [JSONIndexKey(currentIndex)])
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd, !elements[currentIndex].isPresent else { return false }
    currentIndex += 1
    return true
  }

  mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decode(type) }
  mutating func decode(_ type: String.Type) throws -> String { try next().decode(type) }
  mutating func decode(_ type: Double.Type) throws -> Double { try next().decode(type) }
  mutating func decode(_ type: Float.Type) throws -> Float { try next().decode(type) }
  mutating func decode(_ type: Int.Type) throws -> Int { try next().decode(type) }
  mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decode(type) }
  mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decode(type) }
  mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decode(type) }
  mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decode(type) }
  mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decode(type) }
  mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decode(type) }
  mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decode(type) }
  mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decode(type) }
  mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decode(type) }
  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
    -> KeyedDecodingContainer<NestedKey>
  {
    try next().container(keyedBy: type)
  }

  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
  mutating func superDecoder() throws -> any Decoder { try next() }
}

// MARK: - Encoding

/// A value under construction: a scalar, or an object or array whose children are still
/// being encoded (containers are values, so they share the node).
private final class EncodingNode {
  var scalar: JSONValue = .null
  var members: [(key: String, node: EncodingNode)]?
  var items: [EncodingNode]?

  var value: JSONValue {
    if let members { return .object(JSONObject(members.map { ($0.key, $0.node.value) })) }
    if let items { return .array(items.map(\.value)) }
    return scalar
  }

  /// The child node for `key`, replacing an earlier one (the last encoding of a key wins).
  func member(_ key: String) -> EncodingNode {
    let node = EncodingNode()
    if members == nil { members = [] }
    if let i = members?.firstIndex(where: { $0.key.utf8.elementsEqual(key.utf8) }) {
      members?[i].node = node
    } else {
      members?.append((key, node))
    }
    return node
  }

  func item() -> EncodingNode {
    let node = EncodingNode()
    if items == nil { items = [] }
    items?.append(node)
    return node
  }
}

private struct NodeEncoder: Encoder {
  let node: EncodingNode
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  init(_ node: EncodingNode, codingPath: [any CodingKey]) {
    self.node = node
    self.codingPath = codingPath
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    if node.members == nil { node.members = [] }
    return KeyedEncodingContainer(KeyedNodeEncoder<Key>(node: node, codingPath: codingPath))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    if node.items == nil { node.items = [] }
    return UnkeyedNodeEncoder(node: node, codingPath: codingPath)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer { self }

  func set(_ value: JSONValue) { node.scalar = value }

  func number(_ n: JSONNumber?, _ value: some CustomStringConvertible) throws {
    guard let n else {
      throw JSONError(path: JSONPath.of(codingPath, root: ""), .invalid("\(value) is not representable in JSON"))
    }
    set(.number(n))
  }
}

extension NodeEncoder: SingleValueEncodingContainer {
  func encodeNil() { set(.null) }
  func encode(_ value: Bool) { set(.bool(value)) }
  func encode(_ value: String) { set(.string(value)) }
  func encode(_ value: Double) throws { try number(JSONNumber(value), value) }
  func encode(_ value: Float) throws { try number(JSONNumber(value), value) }
  func encode(_ value: Int) { set(.number(JSONNumber(value))) }
  func encode(_ value: Int8) { set(.number(JSONNumber(value))) }
  func encode(_ value: Int16) { set(.number(JSONNumber(value))) }
  func encode(_ value: Int32) { set(.number(JSONNumber(value))) }
  func encode(_ value: Int64) { set(.number(JSONNumber(value))) }
  func encode(_ value: UInt) { set(.number(JSONNumber(value))) }
  func encode(_ value: UInt8) { set(.number(JSONNumber(value))) }
  func encode(_ value: UInt16) { set(.number(JSONNumber(value))) }
  func encode(_ value: UInt32) { set(.number(JSONNumber(value))) }
  func encode(_ value: UInt64) { set(.number(JSONNumber(value))) }
  func encode<T: Encodable>(_ value: T) throws { try value.encode(to: self) }
}

private struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let node: EncodingNode
  let codingPath: [any CodingKey]

  func child(_ key: any CodingKey) -> NodeEncoder {
    NodeEncoder(node.member(key.stringValue), codingPath: codingPath + [key])
  }

  func encodeNil(forKey key: Key) { child(key).encodeNil() }
  func encode(_ value: Bool, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: String, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: Double, forKey key: Key) throws { try child(key).encode(value) }
  func encode(_ value: Float, forKey key: Key) throws { try child(key).encode(value) }
  func encode(_ value: Int, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: Int8, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: Int16, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: Int32, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: Int64, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: UInt, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: UInt8, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: UInt16, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: UInt32, forKey key: Key) { child(key).encode(value) }
  func encode(_ value: UInt64, forKey key: Key) { child(key).encode(value) }
  func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try child(key).encode(value) }

  func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
    -> KeyedEncodingContainer<NestedKey>
  {
    child(key).container(keyedBy: keyType)
  }

  func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { child(key).unkeyedContainer() }
  func superEncoder() -> any Encoder { child(JSONSuperKey()) }
  func superEncoder(forKey key: Key) -> any Encoder { child(key) }
}

private struct UnkeyedNodeEncoder: UnkeyedEncodingContainer {
  let node: EncodingNode
  let codingPath: [any CodingKey]
  var count: Int { node.items?.count ?? 0 }

  func next() -> NodeEncoder {
    NodeEncoder(node.item(), codingPath: codingPath + [JSONIndexKey(count)])
  }

  mutating func encodeNil() { next().encodeNil() }
  mutating func encode(_ value: Bool) { next().encode(value) }
  mutating func encode(_ value: String) { next().encode(value) }
  mutating func encode(_ value: Double) throws { try next().encode(value) }
  mutating func encode(_ value: Float) throws { try next().encode(value) }
  mutating func encode(_ value: Int) { next().encode(value) }
  mutating func encode(_ value: Int8) { next().encode(value) }
  mutating func encode(_ value: Int16) { next().encode(value) }
  mutating func encode(_ value: Int32) { next().encode(value) }
  mutating func encode(_ value: Int64) { next().encode(value) }
  mutating func encode(_ value: UInt) { next().encode(value) }
  mutating func encode(_ value: UInt8) { next().encode(value) }
  mutating func encode(_ value: UInt16) { next().encode(value) }
  mutating func encode(_ value: UInt32) { next().encode(value) }
  mutating func encode(_ value: UInt64) { next().encode(value) }
  mutating func encode<T: Encodable>(_ value: T) throws { try next().encode(value) }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
    -> KeyedEncodingContainer<NestedKey>
  {
    next().container(keyedBy: keyType)
  }

  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { next().unkeyedContainer() }
  mutating func superEncoder() -> any Encoder { next() }
}
