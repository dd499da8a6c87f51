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

/// How an optimizer writes its f32 results back, per storage type: bf16 and f16 each with a
/// `RoundingMode` (f32 is always exact). Stochastic rounding is seeded once per tensor update
/// from the optimizer's generator (`seed(for:from:)`), so a run is reproducible for a seed.
public struct StorageRounding: Sendable, Equatable {
  public var bf16: RoundingMode
  public var f16: RoundingMode

  /// lomo's default: stochastic for bf16 (sub-ulp updates still move the weight in
  /// expectation), nearest for f16 (10 mantissa bits).
  public init(bf16: RoundingMode = .stochastic, f16: RoundingMode = .nearest) {
    self.bf16 = bf16
    self.f16 = f16
  }

  /// The same mode for both 16-bit types.
  public static func always(_ mode: RoundingMode) -> StorageRounding { StorageRounding(bf16: mode, f16: mode) }

  /// The mode for storage `dtype`: f32 is always exact (`nearest` is a no-op there).
  public func mode(for dtype: DType) -> RoundingMode {
    switch dtype {
    case .f32: .nearest
    case .bf16: bf16
    case .f16: f16
    }
  }

  /// The mode of one tensor update and its seed: a draw from `generator` when stochastic (0,
  /// and no draw, otherwise).
  public func seed(for dtype: DType, from generator: inout Xoshiro256) -> (mode: RoundingMode, seed: UInt64) {
    let mode = mode(for: dtype)
    return (mode, mode == .stochastic ? generator.next() : 0)
  }
}
