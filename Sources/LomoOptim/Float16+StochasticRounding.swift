public extension Float16 {
  /// Stochastic rounding of `value` to binary16 driven by `uniform24` (uniform in 0..<2^24):
  /// rounds up (towards +∞) with probability `(value - lower) / (upper - lower)` where lower and
  /// upper are the neighbouring f16 values. Values beyond the finite range and NaN round to
  /// nearest (±∞ and NaN).
  @inlinable init(_ value: Float, stochasticUniform24 uniform24: UInt32) {
    let nearest = Float16(value)
    let n = Float(nearest)
    guard n != value, nearest.isFinite else {
      self = nearest
      return
    }
    let lower = n < value ? nearest : nearest.nextDown
    let upper = n < value ? nearest.nextUp : nearest
    guard upper.isFinite, lower.isFinite else {
      self = nearest
      return
    }
    let lo = Float(lower), hi = Float(upper)
    // Exact in f32: both are f16 values and value lies between them.
    let fraction = (value - lo) / (hi - lo)
    self = Float(uniform24) * 0x1p-24 < fraction ? upper : lower
  }
}
