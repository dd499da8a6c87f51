import LomoCore

/// Builds a `.safetensors` file: an 8-byte little-endian header length, a JSON header, then
/// the tensors' little-endian bytes back to back.
///
/// The header lists `__metadata__` (default `{"format": "pt"}`, what transformers expects)
/// and each tensor's `dtype`, `shape` and `data_offsets`, keys sorted; data is laid out in
/// the order of the sorted names; the header is padded with spaces so the data starts at a
/// multiple of 8 bytes, as the reference implementation does. Dtypes F32, F16 and BF16.
///
/// Writing is atomic with the same contract as `GGUFWriter`: validation first, then
/// `<path>.tmp-<pid>`, fsync, rename; no overwrite without `overwrite: true`; on error the
/// temporary file is removed and the destination is untouched.
public struct SafetensorsWriter {
  public typealias ValueProvider = GGUFWriter.ValueProvider

  public struct Tensor {
    public let name: String
    public let shape: [Int]
    public let dtype: SafetensorsFile.DType
    let provider: ValueProvider
    let suppliedCount: Int?
  }

  /// String metadata stored under `__metadata__`.
  public var metadata: [String: String]
  public private(set) var tensors: [Tensor] = []

  public init(metadata: [String: String] = ["format": "pt"]) {
    self.metadata = metadata
  }

  /// Adds a tensor whose f32 values `provider` supplies (converted to `dtype`) when written.
  public mutating func addTensor(
    _ name: String, shape: [Int], dtype: SafetensorsFile.DType, values provider: @escaping ValueProvider
  ) {
    tensors.append(Tensor(name: name, shape: shape, dtype: dtype, provider: provider, suppliedCount: nil))
  }

  /// Adds a tensor from an array of values (row-major); its length must match `shape`.
  public mutating func addTensor(_ name: String, shape: [Int], dtype: SafetensorsFile.DType, values: [Float]) {
    tensors.append(Tensor(
      name: name, shape: shape, dtype: dtype,
      provider: { out in _ = out.initialize(from: values.prefix(out.count)) }, suppliedCount: values.count))
  }

  /// Writes the file. See the type's documentation for the guarantees.
  public func write(to path: String, overwrite: Bool = false) throws(FileWriteError) {
    let sorted = try validate(path: path)
    var header = "{"
    var entries: [String] = []
    if !metadata.isEmpty {
      let fields = metadata.keys.sorted().map { "\(Self.json($0)):\(Self.json(metadata[$0]!))" }
      entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
    }
    var offset = 0
    for t in sorted {
      let bytes = t.shape.reduce(1, *) * t.dtype.byteSize
      entries.append("\(Self.json(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
      offset += bytes
    }
    header += entries.joined(separator: ",") + "}"
    var headerBytes = Array(header.utf8)
    while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }

    let file = try AtomicFileWriter(path: path, overwrite: overwrite)
    do throws(FileWriteError) {
      try file.write(littleEndian: UInt64(headerBytes.count))
      try file.write(headerBytes)
      var staging: [Float] = []
      for t in sorted {
        let type: GGMLType = switch t.dtype {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        }
        try file.writeTensor(t.name, count: t.shape.reduce(1, *), as: type, staging: &staging, values: t.provider)
      }
      try file.commit()
    } catch {
      file.discard()
      throw error
    }
  }

  /// Checks names and shapes; returns the tensors sorted by name.
  func validate(path: String) throws(FileWriteError) -> [Tensor] {
    func bad(_ name: String, _ reason: String) -> FileWriteError {
      FileWriteError(path: path, problem: .invalidTensor(name: name, reason: reason))
    }
    var seen = Set<String>()
    for t in tensors {
      guard !t.name.isEmpty, t.name != "__metadata__" else { throw bad(t.name, "invalid tensor name") }
      guard seen.insert(t.name).inserted else { throw bad(t.name, "duplicate tensor name") }
      guard t.shape.count <= 8, t.shape.allSatisfy({ $0 >= 0 }) else {
        throw bad(t.name, "shape \(t.shape) must have at most 8 non-negative dimensions")
      }
      var count = 1
      for d in t.shape {
        let (p, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow, p <= Int.max / 8 else { throw bad(t.name, "shape \(t.shape) overflows") }
        count = p
      }
      if let supplied = t.suppliedCount, supplied != count {
        throw bad(t.name, "\(supplied) values do not fill shape \(t.shape) (\(count) elements)")
      }
    }
    return tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
  }

  /// A JSON string literal.
  static func json(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
