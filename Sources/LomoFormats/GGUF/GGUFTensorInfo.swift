/// Where and how one tensor is stored in a GGUF file.
///
/// GGUF lists dimensions innermost-first (ggml's `ne`); `shape` gives them in row-major
/// order as PyTorch/HF see them: a GGUF token_embd with dims [576, 49152] has shape [49152, 576].
public struct GGUFTensorInfo: Sendable, Equatable {
  public let name: String
  public let type: GGMLType
  /// Dimensions as stored, innermost (fastest-varying) first.
  public let dims: [Int]
  public let elementCount: Int
  public let byteCount: Int
  /// Offset of the data from the start of the file's data section (a multiple of the alignment).
  public let offset: Int
  /// File offset of this tensor's info record, for diagnostics.
  public let infoOffset: Int

  /// Row-major shape (outermost first), as PyTorch/HF see the tensor.
  public var shape: [Int] { dims.reversed() }

  /// Length of a row: the innermost dimension.
  public var columns: Int { dims[0] }

  /// Number of rows when the tensor is viewed as a matrix [rows, columns].
  public var rows: Int { elementCount / dims[0] }
}
