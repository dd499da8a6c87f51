import LomoCore
import LomoModel

/// Plain SGD the conventional way, for comparison with LOMO in the same engine: backward's
/// gradients are copied into full-size buffers (parameter-sized, f32, under
/// `MemoryCategory.gradients`) and `finishStep()` applies LOMO's exact rule (`SGDRule`) to every
/// tensor in the order the gradients arrived. With f32 storage, LOMO and this baseline give
/// bit-identical parameters; global-norm clipping here is one pass over the stored gradients.
/// Every update is checked finite (`UpdateKernel.staysFinite`) before any is applied: a refused
/// step (`StepOutcome.refused`) changes nothing.
public final class SGDBaseline: StepOptimizer {
  public let options: LOMO.Options
  /// Clip by the global norm of the stored gradients (computed in `finishStep`); nil: the
  /// settings' clip coefficient.
  public let clipGradNorm: Float?
  public var updatesDuringBackward: Bool { false }
  public var defaultLossScale: Float { 1 }
  public var generator: Xoshiro256
  let store: GradientStore

  public init(parameters: LlamaParameters, options: LOMO.Options, clipGradNorm: Float? = nil,
              ledger: MemoryLedger = .shared) {
    self.options = options
    self.clipGradNorm = clipGradNorm
    generator = Xoshiro256(seed: options.seed)
    store = GradientStore(parameters: parameters, ledger: ledger)
  }

  public func beginStep(_ settings: StepSettings) { store.begin(settings) }

  public func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>) {
    store.store(parameter, gradient: gradient)
  }

  public func finishStep() -> StepOutcome {
    var (settings, outcome) = store.finish(maxNorm: clipGradNorm)
    let rule = SGDRule(learningRate: settings.learningRate, weightDecay: options.weightDecay,
                       clipValue: options.clipGradValue, clipCoefficient: outcome.clipCoefficient,
                       divisor: settings.lossScale)
    if let refused = store.firstRefused({ UpdateKernel.staysFinite(rule, $0, gradient: $1) }) {
      outcome.refused = refused
      return outcome
    }
    outcome.appliedCount = store.arrivals.count
    for id in store.arrivals {
      let p = store.tensors[id]!
      let (rounding, seed) = options.rounding.seed(for: p.dtype, from: &generator)
      UpdateKernel.apply(rule, to: p, gradient: store.buffers[id]!.pointer, rounding: rounding,
                         seed: seed)
    }
    return outcome
  }
}
