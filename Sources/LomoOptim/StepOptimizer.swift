import LomoCore
import LomoModel

/// An optimizer the training-step driver (`LomoStep`) can run: a `ParameterUpdater` that
/// backward feeds, plus the per-step settings the driver owns.
///
/// Fused optimizers (`LOMO`, `AdaLomo`) update each parameter inside `update(_:gradient:)`.
/// Baselines (`SGDBaseline`, `AdamWBaseline`) copy each gradient into their own buffers and
/// apply the step in `finishStep()`.
public protocol StepOptimizer: ParameterUpdater {
  /// Learning rate of the coming step (the driver sets it from a schedule).
  var learningRate: Float { get set }
  /// Whether parameters change during backward (true) or in `finishStep()` (false).
  var updatesDuringBackward: Bool { get }
  /// The per-step settings the driver writes and the norm it reads back (see `StepControls`).
  var controls: StepControls { get set }
  /// Called once per step before the updating backward pass (AdaLomo counts steps here).
  func beginStep()
  /// Called once per step after the updating backward pass (baselines apply their update).
  func finishStep()
}

public extension StepOptimizer {
  func finishStep() {}

  /// The gradients backward hands in are of `lossScale · loss`; updates divide it out.
  var lossScale: Float {
    get { controls.lossScale }
    set { controls.lossScale = newValue }
  }

  /// Multiplies every (value-clipped) gradient; set by the driver from the measured or the
  /// previous step's global norm. 1 leaves gradients unchanged.
  var clipCoefficient: Float {
    get { controls.clipCoefficient }
    set { controls.clipCoefficient = newValue }
  }

  /// When true, the updating pass also accumulates `updateNorm` (the global norm of the
  /// unscaled, unclipped gradients it applied), for one-pass clipping with the previous
  /// step's norm.
  var measuresNorm: Bool {
    get { controls.measuresNorm }
    set { controls.measuresNorm = newValue }
  }

  /// The norm accumulated by the last updating pass when `measuresNorm` is on.
  var updateNorm: GradientNorm { controls.updateNorm }
}

/// What every optimizer holds for the step driver: the loss scale and clip coefficient it is
/// told, whether to measure the norm of what it applies, and that norm.
public struct StepControls: Sendable, Equatable {
  public var lossScale: Float
  public var clipCoefficient: Float = 1
  public var measuresNorm = false
  public var updateNorm = GradientNorm()

  public init(lossScale: Float = 1) { self.lossScale = lossScale }
}

/// Named f32 arrays and scalars that restore an optimizer exactly (for training checkpoints).
public struct OptimizerState: Sendable, Equatable, Codable {
  public var arrays: [String: [Float]]
  public var integers: [String: UInt64]

  public init(arrays: [String: [Float]] = [:], integers: [String: UInt64] = [:]) {
    self.arrays = arrays
    self.integers = integers
  }
}

/// A state that does not fit the optimizer it is restored into.
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable {
  public let problem: String
  public init(_ problem: String) { self.problem = problem }
  public var description: String { "optimizer state: \(problem)" }
}

extension OptimizerState {
  static func encode(_ rng: Xoshiro256, into integers: inout [String: UInt64], prefix: String) {
    integers[prefix + ".0"] = rng.state.0
    integers[prefix + ".1"] = rng.state.1
    integers[prefix + ".2"] = rng.state.2
    integers[prefix + ".3"] = rng.state.3
  }

  func generator(_ prefix: String) throws -> Xoshiro256 {
    guard let a = integers[prefix + ".0"], let b = integers[prefix + ".1"],
          let c = integers[prefix + ".2"], let d = integers[prefix + ".3"]
    else { throw OptimizerStateError("missing random generator state '\(prefix)'") }
    var rng = Xoshiro256(seed: 0)
    rng.state = (a, b, c, d)
    return rng
  }
}
