import LomoCore
import LomoDistributed
import LomoModel

/// LOMO (Lv et al. 2023): SGD fused into backward. Each parameter is updated the moment its
/// gradient is final, with lomo-optim's rule in f32 (`SGDRule`):
///
/// ```
/// g = grad / lossScale; g = clamp(g, ±clipGradValue); g *= clipCoefficient
/// p = p * (1 - lr * weightDecay); p = p - lr * g; p = cast(p)   (no f32 master copy)
/// ```
///
/// Weight decay is decoupled and applies to every tensor (norm scales included), as in the
/// reference. Writing back: f32 exact; bf16 and f16 by `rounding` (default stochastic for bf16,
/// nearest for f16), drawing from a seeded generator the updater owns: one 64-bit seed per
/// tensor update, split into independent streams per 4096-element block, so results are
/// reproducible for a seed regardless of the thread count, and `state()` saves the generator.
///
/// Holds no gradient or optimizer memory: the gradient is backward's scratch.
///
/// Each update is checked before it is written (`UpdateKernel.staysFinite`, one read of the
/// weight and the gradient): a non-finite gradient or updated value refuses that parameter and
/// every later one of the step (`StepOutcome.refused`), so no weight ever becomes inf or NaN.
///
/// Over shards (ZeRO-3) each rank updates its rows with the same rule; the ranks agree on each
/// refusal (`communicator`), and the measured norm is summed over them.
public final class LOMO: StepOptimizer {
  /// The rule's fixed parts; the learning rate, loss scale and clip coefficient come with each
  /// step's `StepSettings`.
  public struct Options: Sendable, Equatable {
    public var weightDecay: Float = 0
    /// Clamp each gradient element to ±clipGradValue (0: off).
    public var clipGradValue: Float = 0
    /// How 16-bit storage is rounded.
    public var rounding = StorageRounding()
    public var seed: UInt64 = 0x10_40_0

    public init(weightDecay: Float = 0, clipGradValue: Float = 0, rounding: StorageRounding = StorageRounding(),
                seed: UInt64 = 0x10_40_0) {
      self.weightDecay = weightDecay
      self.clipGradValue = clipGradValue
      self.rounding = rounding
      self.seed = seed
    }
  }

  public let options: Options
  /// Source of the stochastic-rounding seeds; saved and restored with `state()`.
  public var generator: Xoshiro256
  public var updatesDuringBackward: Bool { true }
  public var defaultLossScale: Float { 1 }
  /// The rule of the step in progress, built once by `beginStep(_:)`; nil outside a step.
  public private(set) var rule: SGDRule?
  private var measuresNorm = false
  /// Measures the gradients this step applies, when its settings ask.
  private let applied = NormAccumulator()
  private var updateGuard = UpdateGuard()
  /// The ranks whose shards this optimizer updates together.
  let communicator: Communicator

  public init(_ options: Options, communicator: Communicator = Communicator()) {
    self.options = options
    self.communicator = communicator
    generator = Xoshiro256(seed: options.seed)
  }

  public convenience init(weightDecay: Float = 0, clipGradValue: Float = 0) {
    self.init(Options(weightDecay: weightDecay, clipGradValue: clipGradValue))
  }

  public func beginStep(_ settings: StepSettings) {
    rule = SGDRule(learningRate: settings.learningRate, weightDecay: options.weightDecay,
                   clipValue: options.clipGradValue, clipCoefficient: settings.clipCoefficient,
                   divisor: settings.lossScale)
    measuresNorm = settings.measuresNorm
    applied.reset(lossScale: settings.lossScale)
    updateGuard.reset()
  }

  public func finishStep() -> StepOutcome {
    guard let rule else { preconditionFailure("LOMO.finishStep without beginStep") }
    self.rule = nil
    return StepOutcome(gradientNorm: measuresNorm ? applied.norm.summed(over: communicator) : nil,
                       clipCoefficient: rule.clipCoefficient, refused: updateGuard.refused,
                       appliedCount: updateGuard.appliedCount)
  }

  public func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>) {
    guard let rule else { preconditionFailure("LOMO.update outside beginStep/finishStep") }
    guard updateGuard.isOpen else { return }
    if measuresNorm { applied.update(parameter, gradient: gradient) }
    guard updateGuard.admit(parameter.id, finite: communicator.all(UpdateKernel.staysFinite(
      rule, parameter, gradient: gradient))) else { return }
    let (rounding, seed) = options.rounding.seed(for: parameter.dtype, from: &generator)
    UpdateKernel.apply(rule, to: parameter, gradient: gradient, rounding: rounding, seed: seed)
  }

  public var acceptsRowSlices: Bool { true }

  /// The same update slice by slice (each produced once): one rounding seed for the tensor,
  /// each slice checked before it is written (a refusal leaves that slice and everything after
  /// it unchanged; earlier slices stay updated).
  public func update(_ parameter: ParameterTensor, slices gradient: RowSlicedGradient) {
    guard let rule else { preconditionFailure("LOMO.update outside beginStep/finishStep") }
    let (rounding, seed) = options.rounding.seed(for: parameter.dtype, from: &generator)
    let measured = updateGuard.isOpen && measuresNorm
    var sumOfSquares = 0.0
    defer { if measured { applied.add(tensorSumOfSquares: sumOfSquares) } }
    for (k, rows) in gradient.slices.enumerated() {
      gradient.produce(k)
      guard updateGuard.isOpen else { continue }
      let part = parameter.rows(rows)
      if measuresNorm { sumOfSquares += applied.sumOfSquares(part, gradient: gradient.buffer) }
      guard updateGuard.admit(parameter.id, finite: UpdateKernel.staysFinite(rule, part, gradient: gradient.buffer),
                              counts: k == 0) else { continue }
      UpdateKernel.apply(rule, to: part, gradient: gradient.buffer, rounding: rounding, seed: seed,
                         firstBlock: rows.lowerBound * gradient.columns / UpdateKernel.block)
    }
  }

  /// The random generator (`generator.0` ... `.3`), the only state LOMO has.
  public func state() -> OptimizerState { OptimizerState(generator: generator) }

  public func restore(_ state: OptimizerState) throws { generator = try state.generatorOnly() }
}
