import LomoCore

/// How an f32 result is written back into 16-bit storage (f32 storage is always exact).
///
/// - `nearest`: round to nearest, ties to even.
/// - `stochastic`: round to one of the two neighbouring representable values with probability
///   proportional to closeness, so `E[stored] == value` for finite values within range: updates
///   smaller than half an ulp still move the parameter in expectation.
public enum RoundingMode: String, Sendable, Codable, CaseIterable {
  case nearest, stochastic
}

extension RoundingMode {
  /// The mode for storage `dtype`: f32 is always exact (`nearest` is a no-op there).
  static func forStorage(_ dtype: DType, bf16: RoundingMode, f16: RoundingMode) -> RoundingMode {
    switch dtype {
    case .f32: .nearest
    case .bf16: bf16
    case .f16: f16
    }
  }
}
