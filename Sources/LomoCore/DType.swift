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

  /// The largest finite magnitude this dtype stores, as f32: f32 3.4028235e38, bf16
  /// 3.3895314e38 (0x7F7F), f16 65504. An f32 value within it rounds (to nearest or
  /// stochastically) to a finite value; one beyond it may round to inf.
  public var greatestFiniteStorableValue: Float {
    switch self {
    case .f32: .greatestFiniteMagnitude
    case .bf16: Float(bitPattern: 0x7F7F_0000)
    case .f16: Float(Float16.greatestFiniteMagnitude)
    }
  }

  public var description: String { rawValue }
}
