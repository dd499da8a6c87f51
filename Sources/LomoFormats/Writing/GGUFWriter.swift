/// Builds a GGUF version 3 file (little-endian): header, metadata key-values in insertion
/// order, tensor infos, then tensor data, each tensor starting at a multiple of the alignment
/// (`general.alignment`, written explicitly, default 32), the last one padded as well.
///
/// Tensors are F32, F16, BF16 or Q8_0 (see `Quantize` for the exact encodings). Values are
/// pulled from each tensor's provider one tensor at a time while the file is written, so a
/// whole model is never held twice in memory.
///
/// `write(to:overwrite:)` validates everything (names, shapes, block sizes, value counts,
/// metadata types) before creating any file, writes to `<path>.tmp-<pid>`, then fsyncs and
/// renames. An existing destination is replaced only with `overwrite: true`; on any error the
/// temporary file is removed and the destination is left as it was.
public struct GGUFWriter {
  /// Fills the buffer (exactly the tensor's element count, row-major) with the f32 values.
  public typealias ValueProvider = (UnsafeMutableBufferPointer<Float>) throws -> Void

  public struct Tensor {
    public let name: String
    /// Row-major shape (outermost first), as PyTorch sees it; GGUF stores it reversed.
    public let shape: [Int]
    public let type: GGMLType
    let provider: ValueProvider
    /// Set when the caller passed an array, to check its length against the shape.
    let suppliedCount: Int?
  }

  /// ggml's GGML_MAX_NAME is 64 bytes including the terminating NUL.
  public static let maximumNameBytes = 63

  public let alignment: Int
  public private(set) var metadata: [(key: String, value: GGUFValue)] = []
  public private(set) var tensors: [Tensor] = []

  /// - Precondition: `alignment` is a power of two.
  public init(alignment: Int = GGUFFile.defaultAlignment) {
    precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
    self.alignment = alignment
    set("general.alignment", .uint32(UInt32(alignment)))
  }

  /// Sets a metadata value; a key already present keeps its position. `general.alignment`
  /// is managed by the writer and cannot be changed here.
  public mutating func set(_ key: String, _ value: GGUFValue) {
    if key == "general.alignment" && !metadata.isEmpty { return }
    if let i = metadata.firstIndex(where: { $0.key == key }) {
      metadata[i].value = value
    } else {
      metadata.append((key, value))
    }
  }

  public mutating func removeValue(forKey key: String) {
    guard key != "general.alignment" else { return }
    metadata.removeAll { $0.key == key }
  }

  public subscript(key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

  /// Adds a tensor whose values `provider` supplies when the file is written.
  public mutating func addTensor(
    _ name: String, shape: [Int], type: GGMLType, values provider: @escaping ValueProvider
  ) {
    tensors.append(Tensor(name: name, shape: shape, type: type, provider: provider, suppliedCount: nil))
  }

  /// Adds a tensor from an array of values (row-major); its length must match `shape`.
  public mutating func addTensor(_ name: String, shape: [Int], type: GGMLType, values: [Float]) {
    tensors.append(Tensor(
      name: name, shape: shape, type: type,
      provider: { out in _ = out.initialize(from: values.prefix(out.count)) }, suppliedCount: values.count))
  }

  /// Writes the file. See the type's documentation for the guarantees.
  public func write(to path: String, overwrite: Bool = false) throws(FileWriteError) {
    let layout = try validate(path: path)
    let file = try AtomicFileWriter(path: path, overwrite: overwrite)
    do throws(FileWriteError) {
      try writeHeader(file, layout: layout)
      try file.pad(to: alignment)
      let dataStart = file.offset
      var staging: [Float] = []
      for (tensor, entry) in zip(tensors, layout) {
        try file.pad(to: alignment)
        precondition(file.offset - dataStart == entry.offset, "GGUF layout drift")
        try file.writeTensor(tensor.name, count: tensor.shape.reduce(1, *), as: tensor.type, staging: &staging, values: tensor.provider)
      }
      // The last tensor is padded too: ggml's gguf.cpp reads the data section as the sum of
      // padded sizes (as gguf-py writes it).
      try file.pad(to: alignment)
      try file.commit()
    } catch {
      file.discard()
      throw error
    }
  }

  // MARK: - Validation and layout

  struct Placement {
    let offset: Int
    let byteCount: Int
  }

  func validate(path: String) throws(FileWriteError) -> [Placement] {
    func bad(_ name: String, _ reason: String) -> FileWriteError {
      FileWriteError(path: path, problem: .invalidTensor(name: name, reason: reason))
    }
    for (key, value) in metadata {
      if key.isEmpty { throw FileWriteError(path: path, problem: .invalidMetadata(key: key, reason: "empty key")) }
      if let reason = Self.encodingProblem(value) {
        throw FileWriteError(path: path, problem: .invalidMetadata(key: key, reason: reason))
      }
    }
    var seen = Set<String>()
    var placements: [Placement] = []
    var offset = 0
    for t in tensors {
      guard !t.name.isEmpty, t.name.utf8.count <= Self.maximumNameBytes else {
        throw bad(t.name, "names must have 1...\(Self.maximumNameBytes) UTF-8 bytes")
      }
      guard seen.insert(t.name).inserted else { throw bad(t.name, "duplicate tensor name") }
      guard (1...GGUFFile.maximumDims).contains(t.shape.count), t.shape.allSatisfy({ $0 > 0 }) else {
        throw bad(t.name, "shape \(t.shape) must have 1...\(GGUFFile.maximumDims) positive dimensions")
      }
      let (count, overflow) = t.shape.dropFirst().reduce((t.shape[0], false)) { acc, d in
        let (p, o) = acc.0.multipliedReportingOverflow(by: d)
        return (p, acc.1 || o)
      }
      guard !overflow else { throw bad(t.name, "shape \(t.shape) overflows") }
      guard Quantize.supportedTypes.contains(t.type) else {
        throw bad(t.name, "type \(t.type) cannot be written (supported: F32, F16, BF16, Q8_0)")
      }
      if let supplied = t.suppliedCount, supplied != count {
        throw bad(t.name, "\(supplied) values do not fill shape \(t.shape) (\(count) elements)")
      }
      let block = t.type.blockSize ?? 1, innermost = t.shape[t.shape.count - 1]
      guard innermost % block == 0, let bytes = Quantize.byteCount(t.type, count: count) else {
        throw bad(t.name, "innermost dimension \(innermost) is not a multiple of the \(t.type) block size \(block)")
      }
      offset = (offset + alignment - 1) / alignment * alignment
      placements.append(Placement(offset: offset, byteCount: bytes))
      offset += bytes
    }
    return placements
  }

  /// Why `value` cannot be written, or nil: arrays must hold elements of their declared type.
  static func encodingProblem(_ value: GGUFValue) -> String? {
    guard case .array(let type, let elements) = value else { return nil }
    for (i, e) in elements.enumerated() {
      if e.type != type { return "array of \(type) holds a \(e.typeDescription) at index \(i)" }
      if let p = encodingProblem(e) { return p }
    }
    return nil
  }

  // MARK: - Encoding

  private func writeHeader(_ file: AtomicFileWriter, layout: [Placement]) throws(FileWriteError) {
    try file.write(littleEndian: GGUFFile.magic)
    try file.write(littleEndian: UInt32(3))
    try file.write(littleEndian: UInt64(tensors.count))
    try file.write(littleEndian: UInt64(metadata.count))
    for (key, value) in metadata {
      try Self.writeString(key, file)
      try file.write(littleEndian: value.type.rawValue)
      try Self.writeValue(value, file)
    }
    for (t, place) in zip(tensors, layout) {
      try Self.writeString(t.name, file)
      try file.write(littleEndian: UInt32(t.shape.count))
      for d in t.shape.reversed() { try file.write(littleEndian: UInt64(d)) }
      try file.write(littleEndian: t.type.id)
      try file.write(littleEndian: UInt64(place.offset))
    }
  }

  private static func writeString(_ s: String, _ file: AtomicFileWriter) throws(FileWriteError) {
    let bytes = Array(s.utf8)
    try file.write(littleEndian: UInt64(bytes.count))
    try file.write(bytes)
  }

  private static func writeValue(_ value: GGUFValue, _ file: AtomicFileWriter) throws(FileWriteError) {
    switch value {
    case .uint8(let v): try file.write(littleEndian: v)
    case .int8(let v): try file.write(littleEndian: v)
    case .uint16(let v): try file.write(littleEndian: v)
    case .int16(let v): try file.write(littleEndian: v)
    case .uint32(let v): try file.write(littleEndian: v)
    case .int32(let v): try file.write(littleEndian: v)
    case .uint64(let v): try file.write(littleEndian: v)
    case .int64(let v): try file.write(littleEndian: v)
    case .float32(let v): try file.write(littleEndian: v.bitPattern)
    case .float64(let v): try file.write(littleEndian: v.bitPattern)
    case .bool(let v): try file.write(littleEndian: UInt8(v ? 1 : 0))
    case .string(let s): try writeString(s, file)
    case .array(let type, let elements):
      try file.write(littleEndian: type.rawValue)
      try file.write(littleEndian: UInt64(elements.count))
      for e in elements { try writeValue(e, file) }
    }
  }
}
