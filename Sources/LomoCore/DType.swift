/// Storage element types. Compute is always f32; bf16 and f16 exist only as storage and as GEMM inputs.
public enum DType: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
  case f32, bf16, f16

  /// Bytes per element.
  public var byteSize: Int {
    switch self {
    case .f32: 4
    case .bf16, .f16: 2
    }
  }

  public var description: String { rawValue }
}
