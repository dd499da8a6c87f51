/// Brain float: the upper 16 bits of an IEEE binary32 (8 exponent bits, 7 mantissa bits).
///
/// Conversions from `Float` round to nearest, ties to even, and keep NaN a (quiet) NaN;
/// `init(_:stochasticBits:)` rounds up with probability equal to the discarded fraction.
/// These are the scalar definitions; arrays go through `Convert` (CLomoSIMD's vectorised C
/// loops), which gives identical bits (ConvertTests).
@frozen
public struct BFloat16: Sendable, Equatable, BitwiseCopyable {
  public var bitPattern: UInt16

  @inlinable public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

  /// Round to nearest even. NaN stays NaN (quietened); overflow rounds to infinity as IEEE does.
  @inlinable public init(_ value: Float) {
    let bits = value.bitPattern
    if value.isNaN {
      bitPattern = UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
      return
    }
    let lsb = (bits >> 16) & 1
    bitPattern = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ lsb) >> 16)
  }

  /// Stochastic rounding: the 16 discarded bits are compared with `stochasticBits` (uniform
  /// in 0..<2^16), so the result rounds away from truncation with probability
  /// (discarded bits) / 2^16 and `E[Float(result)] == value` for finite results.
  @inlinable public init(_ value: Float, stochasticBits: UInt16) {
    if value.isNaN {
      bitPattern = BFloat16(value).bitPattern
      return
    }
    let bits = value.bitPattern
    let rounded = bits &+ UInt32(stochasticBits)
    // Carrying out of the finite range into the exponent of infinity is the correct
    // stochastic rounding of values above the largest finite bf16.
    bitPattern = UInt16(truncatingIfNeeded: (rounded < bits ? bits : rounded) >> 16)
  }

  @inlinable public var float: Float { Float(bitPattern: UInt32(bitPattern) << 16) }
}
