import Foundation
import LomoCore
import LomoModel

/// AdamW with torch.optim.AdamW's semantics (defaults betas (0.9, 0.999), eps 1e-8, weight
/// decay 1e-2, no amsgrad), the memory-hungry baseline LOMO is measured against; lr and the
/// loss scale come with each step's `StepSettings`.
/// Gradients are copied into full-size buffers (`gradients`) during backward; the moments
/// m and v are f32 per parameter (`optimizerState`); `finishStep()` applies, per element:
///
/// ```
/// g = grad / lossScale (· clipCoefficient when clipping by global norm)
/// p = p · (1 - lr·wd)
/// m = m + (g - m)·(1 - β1)           (torch's lerp)
/// v = β2·v + (1 - β2)·g²
/// p = p - (lr / (1 - β1^t)) · m / (√v / √(1 - β2^t) + eps)
/// ```
public final class AdamWBaseline: StepOptimizer {
  public struct Options: Sendable, Equatable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float = 1e-2
    public var clipGradNorm: Float?
    /// How 16-bit storage is rounded (stochastic for both, unlike LOMO's f16 default).
    public var rounding = StorageRounding.always(.stochastic)
    public var seed: UInt64 = 0xADA_3

    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 1e-2, clipGradNorm: Float? = nil) {
      self.beta1 = beta1
      self.beta2 = beta2
      self.eps = eps
      self.weightDecay = weightDecay
      self.clipGradNorm = clipGradNorm
    }
  }

  public let options: Options
  public var updatesDuringBackward: Bool { false }
  public var defaultLossScale: Float { 1 }
  /// Steps taken (bias correction); restored by `restore(_:)`.
  public internal(set) var step = 0
  public var generator: Xoshiro256
  let store: GradientStore
  let m: [ParameterID: AlignedBuffer<Float>]
  let v: [ParameterID: AlignedBuffer<Float>]
  /// The parameters in model order: the order of `namedMoments`.
  let order: [ParameterID]
  /// f32 copy of a 16-bit parameter while it is updated. [largest tensor]
  let widened: AlignedBuffer<Float>

  public init(parameters: LlamaParameters, options: Options = Options(),
              ledger: MemoryLedger = .shared) {
    self.options = options
    generator = Xoshiro256(seed: options.seed)
    store = GradientStore(parameters: parameters, ledger: ledger)
    var m: [ParameterID: AlignedBuffer<Float>] = [:], v = m
    for p in parameters.all {
      m[p.id] = AlignedBuffer(count: p.count, category: .optimizerState, ledger: ledger)
      v[p.id] = AlignedBuffer(count: p.count, category: .optimizerState, ledger: ledger)
    }
    self.m = m
    self.v = v
    order = parameters.all.map(\.id)
    widened = AlignedBuffer(count: parameters.dtype == .f32 ? 0 : parameters.largestCount,
                            category: .scratch, ledger: ledger)
  }

  public func beginStep(_ settings: StepSettings) {
    store.begin(settings)
    step += 1
  }

  public func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>) {
    store.store(parameter, gradient: gradient)
  }

  /// Applies the step to every parameter in the order the gradients arrived and returns the
  /// stored gradients' norm. A non-finite gradient anywhere refuses the whole step before any
  /// parameter, moment or the step count changes (`StepOutcome.refused`). The updated values
  /// themselves are not checked: Adam's step is bounded by the learning rate, so they can only
  /// overflow through the rate (or f16's range).
  public func finishStep() -> StepOutcome {
    var (settings, outcome) = store.finish(maxNorm: options.clipGradNorm)
    if outcome.gradientNorm?.hasNonFinite == true {
      outcome.refused = store.firstRefused {
        UpdateKernel.sumOfSquares($1, count: $0.count).isFinite
      }
    }
    // A refused step, or one with no gradients (a non-finite loss), is not counted.
    if outcome.refused != nil || store.arrivals.isEmpty {
      step -= 1
      return outcome
    }
    outcome.appliedCount = store.arrivals.count
    let o = options
    let t = Double(step)
    let bias1 = Float(1 - pow(Double(o.beta1), t))
    let bias2Root = Float((1 - pow(Double(o.beta2), t)).squareRoot())
    let stepSize = settings.learningRate / bias1
    let decay = 1 - settings.learningRate * o.weightDecay
    let oneMinusBeta1 = 1 - o.beta1, oneMinusBeta2 = 1 - o.beta2
    let divisor = settings.lossScale, coef = outcome.clipCoefficient
    for id in store.arrivals {
      let p = store.tensors[id]!
      let g = store.buffers[id]!.pointer, mp = m[id]!.pointer, vp = v[id]!.pointer
      let x: UnsafeMutablePointer<Float>
      if case .f32(let b) = p.storage { x = b.pointer } else {
        x = widened.pointer
        p.copyAsFloat(into: x)
      }
      Threads.parallelFor(p.count, minChunk: 1 << 14) { r in
        for i in r {
          var gi = g[i]
          if divisor != 1 { gi = gi / divisor }
          if coef != 1 { gi = gi * coef }
          var xi = x[i] * decay
          mp[i] = mp[i] + (gi - mp[i]) * oneMinusBeta1
          vp[i] = vp[i] * o.beta2 + oneMinusBeta2 * gi * gi
          let denom = vp[i].squareRoot() / bias2Root + o.eps
          xi = xi - stepSize * (mp[i] / denom)
          x[i] = xi
        }
      }
      switch p.storage {
      case .f32: break
      default:
        let (rounding, seed) = o.rounding.seed(for: p.dtype, from: &generator)
        // Rounds x into the storage dtype.
        writeBack(x, into: p, rounding: rounding, seed: seed)
      }
    }
    return outcome
  }

  func writeBack(_ x: UnsafeMutablePointer<Float>, into p: ParameterTensor, rounding: RoundingMode,
                 seed: UInt64) {
    var rng = Xoshiro256(seed: seed)
    switch p.storage {
    case .f32(let b): b.pointer.update(from: x, count: p.count)
    case .bf16(let b) where rounding == .stochastic: Convert.toBF16Stochastic(b.pointer, x, count: p.count, rng: &rng)
    case .bf16(let b): Convert.toBF16(b.pointer, x, count: p.count)
    case .f16(let b):
      var i = 0
      while i < p.count {
        let n = min(16, p.count - i)
        StorageIO.store(StorageIO.load(x, i, n), b.pointer, i, n, stochastic: rounding == .stochastic,
                        rng: &rng)
        i += 16
      }
    }
  }
}
