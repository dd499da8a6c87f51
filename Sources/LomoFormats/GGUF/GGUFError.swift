/// Everything that can go wrong reading a GGUF file. Every case names the file; parse errors
/// also name the byte offset where the bad field starts, tensor errors the tensor.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
  /// The file could not be opened, stat'ed or mapped.
  case io(path: String, description: String)
  /// A field at `offset` (described by `what`) needs `needed` bytes but only `available` remain.
  case truncated(path: String, offset: Int, what: String, needed: UInt64, available: Int)
  /// The first four bytes are not "GGUF".
  case badMagic(path: String, found: UInt32)
  /// Only versions 2 and 3 (64-bit counts, little-endian) are read.
  case unsupportedVersion(path: String, version: UInt32)
  /// A header or metadata field is malformed (absurd count, unknown value type, bad
  /// alignment, duplicate key, nesting too deep...).
  case invalidHeader(path: String, offset: Int, description: String)
  /// A tensor info or a tensor's data is malformed (bad dims, unknown type, offset past the
  /// end...).
  case invalidTensor(path: String, tensor: String, offset: Int, description: String)
  /// A metadata key that the caller asked for is absent.
  case missingKey(path: String, key: String)
  /// A metadata key holds a value of another type than the caller asked for.
  case typeMismatch(path: String, key: String, expected: String, found: String)
  /// No tensor of this name.
  case missingTensor(path: String, tensor: String)
  /// The tensor's type is known but cannot be dequantised here.
  case unsupportedTensorType(path: String, tensor: String, type: GGMLType)
  /// A caller-supplied destination or shape does not fit the tensor.
  case shapeMismatch(path: String, tensor: String, description: String)

  public var path: String {
    switch self {
    case .io(let p, _), .truncated(let p, _, _, _, _), .badMagic(let p, _),
      .unsupportedVersion(let p, _), .invalidHeader(let p, _, _), .invalidTensor(let p, _, _, _),
      .missingKey(let p, _), .typeMismatch(let p, _, _, _), .missingTensor(let p, _),
      .unsupportedTensorType(let p, _, _), .shapeMismatch(let p, _, _):
      p
    }
  }

  public var description: String {
    switch self {
    case .io(let path, let d):
      "\(path): \(d)"
    case .truncated(let path, let offset, let what, let needed, let available):
      "\(path): truncated at offset \(offset): \(what) needs \(needed) bytes but only "
        + "\(available) remain"
    case .badMagic(let path, let found):
      "\(path): not a GGUF file (magic 0x\(String(found, radix: 16)), expected 0x46554747 'GGUF')"
    case .unsupportedVersion(let path, let version):
      if version.byteSwapped == 2 || version.byteSwapped == 3 {
        "\(path): big-endian GGUF (version \(version.byteSwapped) byte-swapped) is not supported"
      } else {
        "\(path): unsupported GGUF version \(version) (only 2 and 3 are read)"
      }
    case .invalidHeader(let path, let offset, let d):
      "\(path): invalid header at offset \(offset): \(d)"
    case .invalidTensor(let path, let tensor, let offset, let d):
      "\(path): tensor '\(tensor)' (info at offset \(offset)): \(d)"
    case .missingKey(let path, let key):
      "\(path): metadata key '\(key)' is missing"
    case .typeMismatch(let path, let key, let expected, let found):
      "\(path): metadata key '\(key)' holds \(found), expected \(expected)"
    case .missingTensor(let path, let tensor):
      "\(path): no tensor named '\(tensor)'"
    case .unsupportedTensorType(let path, let tensor, let type):
      "\(path): tensor '\(tensor)' has type \(type), which cannot be dequantised"
    case .shapeMismatch(let path, let tensor, let d):
      "\(path): tensor '\(tensor)': \(d)"
    }
  }
}
