import LomoCore

/// A GGUF file (versions 2 and 3, little-endian), memory-mapped read-only.
///
/// Opening parses and validates the header, every metadata key-value and every tensor info;
/// tensor data stays in the mapping until dequantised. Every count and length is checked
/// against the bytes that remain before anything is allocated from it, so a corrupt or
/// hostile file gives a `GGUFError` naming the file and the problem, never a crash.
///
/// Checks: magic, version, absurd counts, string and array lengths past the end, unknown
/// value types, duplicate keys, nesting deeper than `maximumArrayDepth`, `general.alignment`
/// (a power of two), tensor n_dims in 1...4, dims positive, element and byte counts that
/// overflow, unknown tensor types, innermost dims not divisible by the block size,
/// duplicate tensor names, misaligned offsets, data past the end of the file, overlapping data.
public final class GGUFFile: @unchecked Sendable {
  public static let magic: UInt32 = 0x4655_4747  // "GGUF" little-endian
  public static let defaultAlignment = 32
  public static let maximumDims = 4
  /// Arrays nest at most this deep (llama.cpp writes depth 1); deeper input is rejected
  /// rather than recursing without bound.
  public static let maximumArrayDepth = 8

  /// The path given at open (or the label of an in-memory file); every error names it.
  public let path: String
  public let version: UInt32
  public let metadata: GGUFMetadata
  /// Tensor infos in file order.
  public let tensors: [GGUFTensorInfo]
  public let alignment: Int
  /// File offset of the data section (tensor offsets are relative to it).
  public let dataOffset: Int
  public var fileSize: Int { bytes.count }

  let bytes: MappedFile
  private let index: [String: Int]

  /// Opens and validates the GGUF file at `path`, memory-mapping it read-only.
  public convenience init(path: String) throws(GGUFError) {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch {
      throw .io(path: path, description: error.reason)
    }
    try self.init(bytes: file, path: path)
  }

  /// Parses a GGUF image held in memory (copied); `name` stands for the path in errors.
  public convenience init(contentsOf data: [UInt8], name: String) throws(GGUFError) {
    let copy = data.withUnsafeBytes { MappedFile(copying: $0, path: name) }
    try self.init(bytes: copy, path: name)
  }

  init(bytes: MappedFile, path: String) throws(GGUFError) {
    self.bytes = bytes
    self.path = path
    var r = GGUFByteReader(bytes, path: path)

    // Header.
    let magic = try r.read(UInt32.self, "magic")
    guard magic == Self.magic else { throw .badMagic(path: path, found: magic) }
    let version = try r.read(UInt32.self, "version")
    guard version == 2 || version == 3 else {
      throw .unsupportedVersion(path: path, version: version)
    }
    self.version = version
    let countsOffset = r.offset
    let tensorCount = try r.read(UInt64.self, "tensor count")
    let kvCount = try r.read(UInt64.self, "metadata key-value count")
    // Each key-value takes at least 13 bytes (key length, value type, one byte); each tensor
    // info at least 24 (name length, n_dims, type, offset).
    let kvMin = 8 + 4 + 1
    let tensorMin = 8 + 4 + 4 + 8
    let room = UInt64(r.remaining)
    guard kvCount <= room / UInt64(kvMin), tensorCount <= room / UInt64(tensorMin),
      kvCount * UInt64(kvMin) + tensorCount * UInt64(tensorMin) <= room
    else {
      func need(_ n: UInt64, _ size: Int) -> String {
        let (p, overflow) = n.multipliedReportingOverflow(by: UInt64(size))
        return overflow ? "more than 2^64" : "\(p)"
      }
      throw .invalidHeader(
        path: path, offset: countsOffset,
        description: "absurd counts: \(tensorCount) tensors and \(kvCount) key-values need at "
          + "least \(need(tensorCount, tensorMin)) + \(need(kvCount, kvMin)) bytes but only "
          + "\(room) remain")
    }

    // Metadata.
    var keys: [String] = []
    var values: [String: GGUFValue] = [:]
    var keyOffsets: [String: Int] = [:]
    for i in 0..<Int(kvCount) {
      let kvOffset = r.offset
      let key = try r.string("key of metadata entry \(i)")
      let shown = Format.excerpt(key)
      guard values[key] == nil else {
        throw .invalidHeader(path: path, offset: kvOffset, description: "duplicate key '\(shown)'")
      }
      let typeOffset = r.offset
      let rawType = try r.read(UInt32.self, "value type of '\(shown)'")
      guard let type = GGUFValueType(rawValue: rawType) else {
        throw .invalidHeader(
          path: path, offset: typeOffset,
          description: "unknown value type \(rawType) for key '\(shown)'")
      }
      values[key] = try Self.readValue(type, &r, key: shown, depth: 0)
      keys.append(key)
      keyOffsets[key] = kvOffset
    }
    let metadata = GGUFMetadata(path: path, keys: keys, values: values)
    self.metadata = metadata

    // Alignment.
    var alignment = Self.defaultAlignment
    if let v = metadata["general.alignment"] {
      guard let a = v.intValue, a > 0, a & (a - 1) == 0, a <= 1 << 30 else {
        throw .invalidHeader(
          path: path, offset: keyOffsets["general.alignment"] ?? 0,
          description:
            "general.alignment must be a power of two up to 2^30, found \(Format.excerpt("\(v)")) (\(v.typeDescription))"
        )
      }
      alignment = a
    }
    self.alignment = alignment

    // Tensor infos.
    var infos: [GGUFTensorInfo] = []
    var index: [String: Int] = [:]
    for i in 0..<Int(tensorCount) {
      let info = try Self.readTensorInfo(&r, number: i, alignment: alignment, path: path)
      guard index[info.name] == nil else {
        throw .invalidTensor(
          path: path, tensor: Format.excerpt(info.name), offset: info.infoOffset,
          description:
            "duplicate tensor name (first info at offset \(infos[index[info.name]!].infoOffset))")
      }
      index[info.name] = infos.count
      infos.append(info)
    }
    self.tensors = infos
    self.index = index

    // Data section.
    let (padded, overflow) = r.offset.addingReportingOverflow(alignment - 1)
    let dataOffset = overflow ? Int.max : padded / alignment * alignment
    self.dataOffset = dataOffset
    if !infos.isEmpty && dataOffset > bytes.count {
      throw .invalidHeader(
        path: path, offset: r.offset,
        description: "data section starts at \(dataOffset), past the end of the file "
          + "(\(bytes.count) bytes)")
    }
    let dataSize = max(0, bytes.count - dataOffset)
    for t in infos where t.offset > dataSize || t.byteCount > dataSize - t.offset {
      throw .invalidTensor(
        path: path, tensor: Format.excerpt(t.name), offset: t.infoOffset,
        description: "data [\(t.offset), \(UInt64(t.offset) + UInt64(t.byteCount))) of the data "
          + "section lies past the end of the file (data section has \(dataSize) bytes from "
          + "file offset \(dataOffset))")
    }
    let byOffset = infos.sorted { $0.offset < $1.offset }
    for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.offset + a.byteCount > b.offset {
      throw .invalidTensor(
        path: path, tensor: Format.excerpt(b.name), offset: b.infoOffset,
        description: "data at \(b.offset) overlaps tensor '\(Format.excerpt(a.name))' [\(a.offset), "
          + "\(a.offset + a.byteCount))")
    }
  }

  /// `key` is the key as shown in errors (`Format.excerpt` of the stored one).
  private static func readValue(
    _ type: GGUFValueType, _ r: inout GGUFByteReader, key: String, depth: Int
  ) throws(GGUFError) -> GGUFValue {
    switch type {
    case .uint8: return .uint8(try r.read(UInt8.self, "uint8 value of '\(key)'"))
    case .int8: return .int8(try r.read(Int8.self, "int8 value of '\(key)'"))
    case .uint16: return .uint16(try r.read(UInt16.self, "uint16 value of '\(key)'"))
    case .int16: return .int16(try r.read(Int16.self, "int16 value of '\(key)'"))
    case .uint32: return .uint32(try r.read(UInt32.self, "uint32 value of '\(key)'"))
    case .int32: return .int32(try r.read(Int32.self, "int32 value of '\(key)'"))
    case .uint64: return .uint64(try r.read(UInt64.self, "uint64 value of '\(key)'"))
    case .int64: return .int64(try r.read(Int64.self, "int64 value of '\(key)'"))
    case .float32:
      return .float32(Float(bitPattern: try r.read(UInt32.self, "float32 value of '\(key)'")))
    case .float64:
      return .float64(Double(bitPattern: try r.read(UInt64.self, "float64 value of '\(key)'")))
    case .bool:
      let offset = r.offset
      let b = try r.read(UInt8.self, "bool value of '\(key)'")
      guard b <= 1 else {
        throw .invalidHeader(
          path: r.path, offset: offset, description: "bool value \(b) of '\(key)' is not 0 or 1")
      }
      return .bool(b == 1)
    case .string:
      return .string(try r.string("string value of '\(key)'"))
    case .array:
      let offset = r.offset
      guard depth < maximumArrayDepth else {
        throw .invalidHeader(
          path: r.path, offset: offset,
          description: "arrays in '\(key)' nest deeper than \(maximumArrayDepth) levels")
      }
      let rawType = try r.read(UInt32.self, "array element type of '\(key)'")
      guard let elementType = GGUFValueType(rawValue: rawType) else {
        throw .invalidHeader(
          path: r.path, offset: offset,
          description: "unknown array element type \(rawType) in '\(key)'")
      }
      let countOffset = r.offset
      let n = try r.read(UInt64.self, "array length of '\(key)'")
      let minSize = UInt64(elementType.minimumEncodedSize)
      guard n <= UInt64(r.remaining) / minSize else {
        throw .invalidHeader(
          path: r.path, offset: countOffset,
          description: "array '\(key)' claims \(n) elements of \(elementType) (at least "
            + "\(minSize) bytes each) but only \(r.remaining) bytes remain")
      }
      // No reserveCapacity: storage grows only with elements actually read.
      var elements: [GGUFValue] = []
      for _ in 0..<Int(n) {
        elements.append(try readValue(elementType, &r, key: key, depth: depth + 1))
      }
      return .array(elementType, elements)
    }
  }

  private static func readTensorInfo(
    _ r: inout GGUFByteReader, number: Int, alignment: Int, path: String
  ) throws(GGUFError) -> GGUFTensorInfo {
    let infoOffset = r.offset
    let name = try r.string("name of tensor \(number)")
    let shown = Format.excerpt(name)
    func bad(_ d: String) -> GGUFError {
      .invalidTensor(path: path, tensor: shown, offset: infoOffset, description: d)
    }
    let nDims = try r.read(UInt32.self, "n_dims of tensor '\(shown)'")
    guard nDims >= 1 && nDims <= UInt32(maximumDims) else {
      throw bad("n_dims is \(nDims), expected 1...\(maximumDims)")
    }
    var dims: [Int] = []
    var elementCount = 1
    for d in 0..<Int(nDims) {
      let raw = try r.read(UInt64.self, "dim \(d) of tensor '\(shown)'")
      guard raw >= 1, raw <= UInt64(Int64.max) else {
        throw bad("dim \(d) is \(Int64(bitPattern: raw)); dims must be positive")
      }
      let (p, overflow) = elementCount.multipliedReportingOverflow(by: Int(raw))
      guard !overflow else { throw bad("element count overflows: dims \(dims + [Int(raw)])") }
      dims.append(Int(raw))
      elementCount = p
    }
    let typeID = try r.read(UInt32.self, "type of tensor '\(shown)'")
    let type = GGMLType(id: typeID)
    guard let blockSize = type.blockSize, let blockBytes = type.bytesPerBlock else {
      throw bad("unknown tensor type id \(typeID)")
    }
    guard dims[0] % blockSize == 0 else {
      throw bad("innermost dim \(dims[0]) is not a multiple of the \(type) block size \(blockSize)")
    }
    let (byteCount, overflow) = (elementCount / blockSize).multipliedReportingOverflow(
      by: blockBytes)
    guard !overflow else { throw bad("byte size overflows: dims \(dims), type \(type)") }
    let rawOffset = try r.read(UInt64.self, "data offset of tensor '\(shown)'")
    guard rawOffset <= UInt64(Int.max) else { throw bad("data offset \(rawOffset) is absurd") }
    guard rawOffset % UInt64(alignment) == 0 else {
      throw bad("data offset \(rawOffset) is not a multiple of the alignment \(alignment)")
    }
    return GGUFTensorInfo(
      name: name, type: type, dims: dims, elementCount: elementCount, byteCount: byteCount,
      offset: Int(rawOffset), infoOffset: infoOffset)
  }

  // MARK: - Tensors

  /// The info of tensor `name`.
  public func tensor(_ name: String) throws(GGUFError) -> GGUFTensorInfo {
    guard let i = index[name] else { throw .missingTensor(path: path, tensor: name) }
    return tensors[i]
  }

  public func contains(tensor name: String) -> Bool { index[name] != nil }

  /// Calls `body` with the stored bytes of tensor `name` (valid only inside `body`).
  public func withRawBytes<R>(
    of name: String, _ body: (UnsafeRawBufferPointer) throws -> R
  ) throws -> R {
    let info = try tensor(name)
    return try withExtendedLifetime(bytes) {
      try body(rawBytes(info))
    }
  }

  /// The stored bytes of a tensor of this file (validated at open). The caller keeps `self`
  /// alive while using them.
  func rawBytes(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: bytes.base + dataOffset + info.offset, count: info.byteCount)
  }
}
