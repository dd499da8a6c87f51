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

extension DType {
  /// The index of the first inf or NaN among `bytes` holding values of this type (little
  /// endian, any alignment), nil when all are finite. Tests the exponent bits (all ones: inf
  /// or NaN) and converts nothing: f32 `0x7F80_0000`, bf16 `0x7F80`, f16 `0x7C00`.
  public func firstNonFiniteIndex(in bytes: UnsafeRawBufferPointer) -> Int? {
    switch self {
    case .f32:
      return (0..<(bytes.count / 4)).first {
        bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self) & 0x7F80_0000 == 0x7F80_0000
      }
    case .bf16, .f16:
      let mask: UInt16 = self == .bf16 ? 0x7F80 : 0x7C00
      return (0..<(bytes.count / 2)).first {
        bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) & mask == mask
      }
    }
  }
}
