import LomoCore
import LomoModel

/// Plain SGD the conventional way, for comparison with LOMO in the same engine: backward's
/// gradients are copied into full-size buffers (parameter-sized, f32, under
/// `MemoryCategory.gradients`) and `finishStep()` applies LOMO's exact rule (`SGDRule`) to every
/// tensor in the order the gradients arrived. With f32 storage, LOMO and this baseline give
/// bit-identical parameters; global-norm clipping here is one pass over the stored gradients.
public final class SGDBaseline: StepOptimizer {
  public var options: LOMO.Options
  /// Clip by global norm (computed from the stored gradients in `finishStep`); nil: off.
  public var clipGradNorm: Float?
  public var learningRate: Float {
    get { options.learningRate }
    set { options.learningRate = newValue }
  }
  public var controls = StepControls()
  public var updatesDuringBackward: Bool { false }
  public var generator: Xoshiro256
  let store: GradientStore

  public init(parameters: LlamaParameters, options: LOMO.Options, clipGradNorm: Float? = nil,
              ledger: MemoryLedger = .shared) {
    self.options = options
    self.clipGradNorm = clipGradNorm
    generator = Xoshiro256(seed: options.seed)
    store = GradientStore(parameters: parameters, ledger: ledger)
  }

  public func beginStep() { store.reset() }

  public func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>) {
    store.store(parameter, gradient: gradient)
  }

  public func finishStep() {
    controls.updateNorm = store.norm(divisor: lossScale)
    if let maxNorm = clipGradNorm { clipCoefficient = updateNorm.clipCoefficient(maxNorm: maxNorm) }
    let rule = SGDRule(learningRate: options.learningRate, weightDecay: options.weightDecay,
                       clipValue: options.clipGradValue, clipCoefficient: clipCoefficient,
                       divisor: lossScale)
    for id in store.arrivals {
      let p = store.tensors[id]!
      let rounding = RoundingMode.forStorage(p.dtype, bf16: options.bf16Rounding,
                                             f16: options.f16Rounding)
      let seed = rounding == .stochastic ? generator.next() : 0
      UpdateKernel.apply(rule, to: p, gradient: store.buffers[id]!.pointer, rounding: rounding,
                         seed: seed)
    }
  }
}
