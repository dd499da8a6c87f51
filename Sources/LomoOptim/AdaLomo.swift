import Foundation
import LomoCore
import LomoDistributed
import LomoModel

/// AdaLomo (Lv et al. 2023b) as lomo-optim 0.1.1 computes it, fused into backward like LOMO:
///
/// ```
/// t += 1 per step;  beta2 = 1 - t^decayRate (decayRate -0.8);  eps = (1e-30, 1e-3)
/// g = grad / lossScale; optional clamp(g, ±clipGradValue); g *= clipCoefficient
/// s = g² + eps1
/// matrix [m, n]: row = beta2·row + (1-beta2)·mean_cols(s)   [m]
///                col = beta2·col + (1-beta2)·mean_rows(s)   [n]
///                u   = rsqrt(row_i / mean(row)) · rsqrt(col_j) · g
/// vector [n]:    v = beta2·v + (1-beta2)·s;  u = rsqrt(v) · g
/// u /= max(1, RMS(u) / clipThreshold)                       RMS(x) = ‖x‖₂ / √numel
/// lr_t = lr · max(eps2, RMS(p))
/// p = p · (1 - lr_t · weightDecay) - lr_t · u;  p = cast(p)
/// ```
///
/// f32 elementwise arithmetic in the reference's order; means and norms accumulate in Double
/// (the reference reduces in f32), so results agree to float rounding. lr, the loss scale and
/// clipCoefficient come with each step's `StepSettings`; without a dynamic scaler the loss scale
/// is `options.lossScale` (`defaultLossScale`, 2^10 as lomo-optim; no overflow check). The
/// second-moment state is f32 under
/// `MemoryCategory.optimizerState`, (m + n) floats per matrix and n per vector; `state()`
/// exports it with the step count and the rounding generator, and `restore(_:)` reloads it.
///
/// Like LOMO it refuses an update that is not finite (`StepOutcome.refused`): a non-finite
/// gradient before the tensor's moments change, a non-finite update (`UpdateKernel.staysFinite`)
/// after them; that parameter and every later one of the step are left unchanged.
///
/// Over shards (ZeRO-3: each rank holds whole rows, `RowShard`) the statistics are those of
/// the whole tensor: a rank's row factors are its own rows', the column sums, the row-state sum
/// and the sums of squares of RMS(u) and RMS(p) are summed over the ranks (f64) before use,
/// and the means divide by the whole tensor's sizes; the ranks agree on every refusal.
public final class AdaLomo: StepOptimizer {
  public struct Options: Sendable, Equatable {
    public var weightDecay: Float = 0
    public var clipGradValue: Float = 0
    /// The static loss scale of the reference, declared as `defaultLossScale`.
    public var lossScale: Float = 1024
    public var eps1: Float = 1e-30
    public var eps2: Float = 1e-3
    public var clipThreshold: Float = 1
    public var decayRate: Double = -0.8
    public var rounding = StorageRounding()
    public var seed: UInt64 = 0xADA_10_40

    public init(weightDecay: Float = 0, clipGradValue: Float = 0, lossScale: Float = 1024) {
      self.weightDecay = weightDecay
      self.clipGradValue = clipGradValue
      self.lossScale = lossScale
    }
  }

  /// Second-moment state of one tensor: factored for matrices, full for vectors. [m], [n] or [n]
  final class Moments {
    let rows: AlignedBuffer<Float>?
    let cols: AlignedBuffer<Float>?
    let full: AlignedBuffer<Float>?

    init(shape: [Int], ledger: MemoryLedger) {
      if shape.count >= 2 {
        let n = shape[shape.count - 1], m = shape.reduce(1, *) / max(n, 1)
        rows = AlignedBuffer(count: m, category: .optimizerState, ledger: ledger)
        cols = AlignedBuffer(count: n, category: .optimizerState, ledger: ledger)
        full = nil
      } else {
        rows = nil
        cols = nil
        full = AlignedBuffer(count: shape.reduce(1, *), category: .optimizerState, ledger: ledger)
      }
    }
  }

  public let options: Options
  public var updatesDuringBackward: Bool { true }
  public var defaultLossScale: Float { options.lossScale }
  /// Steps begun so far (t of the current step once `beginStep(_:)` ran).
  public private(set) var step: Int = 0
  /// The settings of the step in progress; nil outside a step.
  private var settings: StepSettings?
  /// 1 - t^decayRate of the step in progress.
  private var beta2: Double = 0
  /// Measures the gradients this step applies, when its settings ask.
  private let applied = NormAccumulator()
  private var updateGuard = UpdateGuard()
  public var generator: Xoshiro256
  let moments: [ParameterID: Moments]
  let ids: [ParameterID]
  /// Double accumulators of column sums and row means. [max(m, n) over tensors]
  let reduce: AlignedBuffer<Double>
  /// rsqrt(col) of the tensor being updated. [max n]
  let colFactor: AlignedBuffer<Float>
  /// The ranks whose shards this optimizer updates together (the parameters').
  let communicator: Communicator

  /// Allocates the state for every tensor of `parameters` (zero, as the reference).
  public init(parameters: LlamaParameters, options: Options = Options(),
              ledger: MemoryLedger = .shared) {
    self.options = options
    communicator = parameters.communicator
    generator = Xoshiro256(seed: options.seed)
    var moments: [ParameterID: Moments] = [:]
    var widest = 1, longest = 1
    for p in parameters.all {
      moments[p.id] = Moments(shape: p.shape, ledger: ledger)
      if p.shape.count >= 2 {
        widest = max(widest, p.shape.last!)
        longest = max(longest, p.count / p.shape.last!)
      }
    }
    self.moments = moments
    ids = parameters.all.map(\.id)
    reduce = AlignedBuffer(count: max(widest, longest), category: .scratch, ledger: ledger)
    colFactor = AlignedBuffer(count: widest, category: .scratch, ledger: ledger)
  }

  /// Counts the step (t ≥ 1, so the reference's sign flip of the exponent at t = 0 never
  /// applies) and fixes its beta2.
  public func beginStep(_ settings: StepSettings) {
    step += 1
    self.settings = settings
    beta2 = 1 - pow(Double(step), options.decayRate)
    applied.reset(lossScale: settings.lossScale)
    updateGuard.reset()
  }

  public func finishStep() -> StepOutcome {
    guard let settings else { preconditionFailure("AdaLomo.finishStep without beginStep") }
    self.settings = nil
    // A step that changed no parameter (refused, or a non-finite loss) is not counted.
    if updateGuard.appliedCount == 0 { step -= 1 }
    return StepOutcome(gradientNorm: settings.measuresNorm ? applied.norm.summed(over: communicator) : nil,
                       clipCoefficient: settings.clipCoefficient, refused: updateGuard.refused,
                       appliedCount: updateGuard.appliedCount)
  }

  public func update(_ parameter: ParameterTensor, gradient g: UnsafeMutablePointer<Float>) {
    guard let state = moments[parameter.id] else {
      preconditionFailure("AdaLomo has no state for \(parameter.id); build it from these parameters")
    }
    guard let settings else { preconditionFailure("AdaLomo.update outside beginStep/finishStep") }
    let count = parameter.count, fullCount = parameter.shard.fullCount
    guard updateGuard.isOpen else { return }
    // Measured before the gradient is changed in place below.
    if settings.measuresNorm { applied.update(parameter, gradient: g) }
    // A non-finite gradient (on any rank) is refused before the moments change.
    guard communicator.sum(UpdateKernel.sumOfSquares(g, count: count)).isFinite else {
      return updateGuard.refuse(parameter.id)
    }
    // g = clip(grad / lossScale) * clipCoefficient, in place.
    let prep = SGDRule(learningRate: 0, clipValue: options.clipGradValue,
                       clipCoefficient: settings.clipCoefficient, divisor: settings.lossScale)
    Self.prepare(g, count: count, rule: prep)

    let beta2 = Float(self.beta2), oneMinus = Float(1 - self.beta2)
    let eps1 = options.eps1
    if let rowState = state.rows, let colState = state.cols {
      // m: this rank's rows; fullM: the whole tensor's.
      let n = colState.count, m = rowState.count, fullM = Double(fullCount / max(n, 1))
      let row = rowState.pointer, col = colState.pointer, acc = reduce.pointer
      // Row means of s = g² + eps1, folded into the row state. [m]
      Threads.parallelFor(m, minChunk: max(1, 8192 / max(n, 1))) { r in
        for i in r {
          let gi = g + i * n
          var s = 0.0
          for j in 0..<n { s += Double(gi[j] * gi[j] + eps1) }
          let mean = Float(s / Double(n))
          row[i] = (row[i] * beta2).addingProduct(oneMinus, mean)
        }
      }
      // Column sums, in column blocks so each thread owns its columns, then summed over the
      // ranks' rows and folded into the column state as means. [n]
      let colBlock = 64
      Threads.parallelFor((n + colBlock - 1) / colBlock) { r in
        for blk in r {
          let lo = blk * colBlock, hi = min(lo + colBlock, n)
          for j in lo..<hi { acc[j] = 0 }
          for i in 0..<m {
            let gi = g + i * n
            for j in lo..<hi { acc[j] += Double(gi[j] * gi[j] + eps1) }
          }
        }
      }
      communicator.allReduce(acc, count: n)
      for j in 0..<n { col[j] = (col[j] * beta2).addingProduct(oneMinus, Float(acc[j] / fullM)) }
      var rowSum = 0.0
      for i in 0..<m { rowSum += Double(row[i]) }
      let rowMean = Float(communicator.sum(rowSum) / fullM)
      let cf = colFactor.pointer
      for j in 0..<n { cf[j] = 1 / col[j].squareRoot() }
      // u = (rsqrt(row_i / mean(row)) · rsqrt(col_j)) · g, in place.
      Threads.parallelFor(m, minChunk: max(1, 8192 / max(n, 1))) { r in
        for i in r {
          let rf = 1 / (row[i] / rowMean).squareRoot()
          let gi = g + i * n
          for j in 0..<n { gi[j] = (rf * cf[j]) * gi[j] }
        }
      }
    } else if let v = state.full?.pointer {
      for i in 0..<count {
        let s = g[i] * g[i] + eps1
        v[i] = (v[i] * beta2).addingProduct(oneMinus, s)
        g[i] = (1 / v[i].squareRoot()) * g[i]
      }
    }
    // Update RMS clipping, then the parameter-scaled learning rate.
    let rootCount = Double(fullCount).squareRoot()
    let rmsU = Float(communicator.sum(UpdateKernel.sumOfSquares(g, count: count)).squareRoot() / rootCount)
    let divisor = max(rmsU / options.clipThreshold, 1)
    let rmsP = Float(communicator.sum(UpdateKernel.sumOfSquares(parameter)).squareRoot() / rootCount)
    let lr = settings.learningRate * max(options.eps2, rmsP)
    let rule = SGDRule(learningRate: lr, weightDecay: options.weightDecay, divisor: divisor)
    guard updateGuard.admit(parameter.id, finite: communicator.all(UpdateKernel.staysFinite(
      rule, parameter, gradient: g))) else { return }
    let (rounding, seed) = options.rounding.seed(for: parameter.dtype, from: &generator)
    UpdateKernel.apply(rule, to: parameter, gradient: g, rounding: rounding, seed: seed)
  }

  /// g = clamp(g / divisor, ±clipValue) · clipCoefficient in place (the LOMO gradient prep).
  static func prepare(_ g: UnsafeMutablePointer<Float>, count: Int, rule: SGDRule) {
    let useDiv = rule.divisor != 1, useClip = rule.clipValue > 0, useCoef = rule.clipCoefficient != 1
    guard useDiv || useClip || useCoef else { return }
    Threads.parallelFor(count, minChunk: 1 << 15) { r in
      for i in r {
        var v = g[i]
        if useDiv { v = v / rule.divisor }
        if useClip { v = min(max(v, -rule.clipValue), rule.clipValue) }
        if useCoef { v = v * rule.clipCoefficient }
        g[i] = v
      }
    }
  }

  // MARK: Checkpointing

  /// Bytes of second-moment state (what the ledger counts under optimizerState).
  public var stateBytes: Int {
    moments.values.reduce(0) {
      $0 + ($1.rows?.byteCount ?? 0) + ($1.cols?.byteCount ?? 0) + ($1.full?.byteCount ?? 0)
    }
  }

  /// The state buffers under their names: `<HF tensor name>.exp_avg_sq_row` /
  /// `.exp_avg_sq_col` (matrices) or `.exp_avg_sq` (vectors), the reference's names.
  var namedMoments: [(String, AlignedBuffer<Float>)] {
    ids.flatMap { id in
      let m = moments[id]!
      return [("exp_avg_sq_row", m.rows), ("exp_avg_sq_col", m.cols), ("exp_avg_sq", m.full)]
        .compactMap { suffix, buffer in buffer.map { ("\(id).\(suffix)", $0) } }
    }
  }

  /// The moments (`namedMoments`), the step count `step` and the rounding generator.
  public func state() -> OptimizerState {
    OptimizerState(arrays: namedMoments, step: step, generator: generator)
  }

  public func restore(_ s: OptimizerState) throws { (step, generator) = try s.load(arrays: namedMoments) }
}
