/// A ggml tensor storage type: its id in GGUF files, block size (elements per block) and
/// bytes per block. Types llama.cpp removed or never defined are `.unknown` and rejected when
/// a file is opened, because their sizes are unknown.
public enum GGMLType: Equatable, Hashable, Sendable, CustomStringConvertible {
  case f32, f16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1
  case q2_K, q3_K, q4_K, q5_K, q6_K, q8_K
  case iq2_xxs, iq2_xs, iq3_xxs, iq1_s, iq4_nl, iq3_s, iq2_s, iq4_xs
  case i8, i16, i32, i64, f64, iq1_m, bf16, tq1_0, tq2_0, mxfp4
  case unknown(UInt32)

  public init(id: UInt32) {
    self = Self.table.first { $0.id == id }?.type ?? .unknown(id)
  }

  /// The type id stored in GGUF tensor infos.
  public var id: UInt32 {
    if case .unknown(let id) = self { return id }
    return Self.table.first { $0.type == self }!.id
  }

  /// ggml's name, e.g. "Q4_K"; "unknown type 5" for an id this reader does not know.
  public var name: String {
    if case .unknown(let id) = self { return "unknown type \(id)" }
    return Self.table.first { $0.type == self }!.name
  }

  public var description: String { name }

  /// Elements per block (1 for plain float and integer types); nil for unknown types.
  public var blockSize: Int? { layout?.blockSize }

  /// Bytes per block; nil for unknown types.
  public var bytesPerBlock: Int? { layout?.bytesPerBlock }

  /// Whether `GGUFFile` can dequantise this type to f32.
  public var isDequantisable: Bool {
    switch self {
    case .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K: true
    default: false
    }
  }

  /// Elements per super-block of the K-quants.
  public static let qkK = 256

  private var layout: (blockSize: Int, bytesPerBlock: Int)? {
    if case .unknown = self { return nil }
    let e = Self.table.first { $0.type == self }!
    return (e.blockSize, e.bytesPerBlock)
  }

  // Sizes follow ggml's type traits (ggml.c / gguf-py constants.GGML_QUANT_SIZES).
  private static let k = qkK
  private static let table:
    [(type: GGMLType, id: UInt32, name: String, blockSize: Int, bytesPerBlock: Int)] = [
      (.f32, 0, "F32", 1, 4),
      (.f16, 1, "F16", 1, 2),
      (.q4_0, 2, "Q4_0", 32, 2 + 16),
      (.q4_1, 3, "Q4_1", 32, 2 + 2 + 16),
      (.q5_0, 6, "Q5_0", 32, 2 + 4 + 16),
      (.q5_1, 7, "Q5_1", 32, 2 + 2 + 4 + 16),
      (.q8_0, 8, "Q8_0", 32, 2 + 32),
      (.q8_1, 9, "Q8_1", 32, 4 + 4 + 32),
      (.q2_K, 10, "Q2_K", k, 2 + 2 + k / 16 + k / 4),
      (.q3_K, 11, "Q3_K", k, 2 + k / 4 + k / 8 + 12),
      (.q4_K, 12, "Q4_K", k, 2 + 2 + k / 2 + 12),
      (.q5_K, 13, "Q5_K", k, 2 + 2 + k / 2 + k / 8 + 12),
      (.q6_K, 14, "Q6_K", k, 2 + k / 2 + k / 4 + k / 16),
      (.q8_K, 15, "Q8_K", k, 4 + k + k / 8),
      (.iq2_xxs, 16, "IQ2_XXS", k, 2 + k / 4),
      (.iq2_xs, 17, "IQ2_XS", k, 2 + k / 4 + k / 32),
      (.iq3_xxs, 18, "IQ3_XXS", k, 2 + k / 4 + k / 8),
      (.iq1_s, 19, "IQ1_S", k, 2 + k / 8 + k / 16),
      (.iq4_nl, 20, "IQ4_NL", 32, 2 + 16),
      (.iq3_s, 21, "IQ3_S", k, 2 + k / 4 + k / 8 + k / 32 + 4),
      (.iq2_s, 22, "IQ2_S", k, 2 + k / 4 + k / 16),
      (.iq4_xs, 23, "IQ4_XS", k, 2 + 2 + k / 2 + k / 64),
      (.i8, 24, "I8", 1, 1),
      (.i16, 25, "I16", 1, 2),
      (.i32, 26, "I32", 1, 4),
      (.i64, 27, "I64", 1, 8),
      (.f64, 28, "F64", 1, 8),
      (.iq1_m, 29, "IQ1_M", k, k / 8 + k / 16 + k / 32),
      (.bf16, 30, "BF16", 1, 2),
      (.tq1_0, 34, "TQ1_0", k, 2 + 4 * 13),
      (.tq2_0, 35, "TQ2_0", k, 2 + 64),
      (.mxfp4, 39, "MXFP4", 32, 1 + 16),
    ]
}
