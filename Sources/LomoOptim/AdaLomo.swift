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

    if let rowState = state.rows, let colState = state.cols {
      // m: this rank's rows; n: the columns.
      let n = colState.count, m = rowState.count, row = rowState.pointer, acc = reduce.pointer
      foldRowMeans(g, rows: m, columns: n, into: row)
      acc.update(repeating: 0, count: n)
      addColumnSums(g, rows: m, columns: n, into: acc)
      let rowMean = foldColumns(colState, rows: rowState, fullRows: Double(fullCount / max(n, 1)))
      scaleByMoments(g, rows: m, columns: n, row: row, rowMean: rowMean)
    } else if let v = state.full?.pointer {
      let beta2 = Float(self.beta2), oneMinus = Float(1 - self.beta2), eps1 = options.eps1
      for i in 0..<count {
        let s = g[i] * g[i] + eps1
        v[i] = (v[i] * beta2).addingProduct(oneMinus, s)
        g[i] = (1 / v[i].squareRoot()) * g[i]
      }
    }
    let rule = updateRule(parameter, sumOfSquaresOfUpdate: UpdateKernel.sumOfSquares(g, count: count))
    guard updateGuard.admit(parameter.id, finite: communicator.all(UpdateKernel.staysFinite(
      rule, parameter, gradient: g))) else { return }
    let (rounding, seed) = options.rounding.seed(for: parameter.dtype, from: &generator)
    UpdateKernel.apply(rule, to: parameter, gradient: g, rounding: rounding, seed: seed)
  }

  /// The final SGD-form rule for `parameter` (this rank's part) given Σu² of its update:
  /// update RMS clipping, then the learning rate scaled by RMS(p).
  func updateRule(_ parameter: ParameterTensor, sumOfSquaresOfUpdate sumU: Double) -> SGDRule {
    let rootCount = Double(parameter.shard.fullCount).squareRoot()
    let rmsU = Float(communicator.sum(sumU).squareRoot() / rootCount)
    let divisor = max(rmsU / options.clipThreshold, 1)
    let rmsP = Float(communicator.sum(UpdateKernel.sumOfSquares(parameter)).squareRoot() / rootCount)
    let lr = settings!.learningRate * max(options.eps2, rmsP)
    return SGDRule(learningRate: lr, weightDecay: options.weightDecay, divisor: divisor)
  }

  public var acceptsRowSlices: Bool { true }

  /// The same update of a matrix whose gradient comes in row slices, in three passes that each
  /// produce the slices again: (1) finiteness, the measured norm, the row means (staged until
  /// every slice is finite) and the column sums; (2) Σu² for RMS(u); (3) the update, checked
  /// and written slice by slice (a refusal leaves that slice and every later one unchanged).
  /// The moments, RMS(u) and RMS(p) are the whole tensor's, summed in the same order. One
  /// process only (the model slices only unsharded tensors).
  public func update(_ parameter: ParameterTensor, slices gradient: RowSlicedGradient) {
    guard let state = moments[parameter.id], let rowState = state.rows, let colState = state.cols else {
      preconditionFailure("AdaLomo has no matrix state for \(parameter.id); build it from these parameters")
    }
    guard let settings else { preconditionFailure("AdaLomo.update outside beginStep/finishStep") }
    precondition(parameter.shard.fullCount == parameter.count, "row slices of a sharded tensor")
    guard updateGuard.isOpen else { return }
    let n = gradient.columns, g = gradient.buffer, acc = reduce.pointer
    let prep = SGDRule(learningRate: 0, clipValue: options.clipGradValue,
                       clipCoefficient: settings.clipCoefficient, divisor: settings.lossScale)
    /// Produces slice k as the whole update prepares it: clipped and scaled in place.
    func prepared(_ k: Int) -> Int {
      gradient.produce(k)
      let count = gradient.slices[k].count * n
      Self.prepare(g, count: count, rule: prep)
      return count
    }

    let staged = AlignedBuffer<Float>(rowState.buffer, category: .scratch)
    acc.update(repeating: 0, count: n)
    var measured = 0.0, finite = true
    for (k, rows) in gradient.slices.enumerated() where finite {
      gradient.produce(k)
      let part = parameter.rows(rows)
      if settings.measuresNorm { measured += applied.sumOfSquares(part, gradient: g) }
      finite = UpdateKernel.sumOfSquares(g, count: part.count).isFinite
      guard finite else { break }
      Self.prepare(g, count: part.count, rule: prep)
      foldRowMeans(g, rows: rows.count, columns: n, into: staged.pointer + rows.lowerBound)
      addColumnSums(g, rows: rows.count, columns: n, into: acc)
    }
    if settings.measuresNorm { applied.add(tensorSumOfSquares: measured) }
    guard finite else { return updateGuard.refuse(parameter.id) }
    rowState.pointer.update(from: staged.pointer, count: rowState.count)
    let rowMean = foldColumns(colState, rows: rowState, fullRows: Double(rowState.count))

    var sumU = 0.0
    for (k, rows) in gradient.slices.enumerated() {
      let count = prepared(k)
      scaleByMoments(g, rows: rows.count, columns: n, row: rowState.pointer + rows.lowerBound, rowMean: rowMean)
      sumU += UpdateKernel.sumOfSquares(g, count: count)
    }
    let rule = updateRule(parameter, sumOfSquaresOfUpdate: sumU)
    let (rounding, seed) = options.rounding.seed(for: parameter.dtype, from: &generator)
    for (k, rows) in gradient.slices.enumerated() {
      _ = prepared(k)
      scaleByMoments(g, rows: rows.count, columns: n, row: rowState.pointer + rows.lowerBound, rowMean: rowMean)
      let part = parameter.rows(rows)
      guard updateGuard.admit(parameter.id, finite: UpdateKernel.staysFinite(rule, part, gradient: g),
                              counts: k == 0) else { return }
      UpdateKernel.apply(rule, to: part, gradient: g, rounding: rounding, seed: seed,
                         firstBlock: rows.lowerBound * n / UpdateKernel.block)
    }
  }

  // MARK: The factored moments of a matrix, for whole tensors and for row slices

  /// row[i] = beta2·row[i] + (1 − beta2)·mean_j(g[i, j]² + eps1) for the m rows of g [m, n].
  func foldRowMeans(_ g: UnsafePointer<Float>, rows m: Int, columns n: Int, into row: UnsafeMutablePointer<Float>) {
    let beta2 = Float(self.beta2), oneMinus = Float(1 - self.beta2), eps1 = options.eps1
    Threads.parallelFor(m, minChunk: max(1, 8192 / max(n, 1))) { r in
      for i in r {
        let gi = g + i * n
        var s = 0.0
        for j in 0..<n { s += Double(gi[j] * gi[j] + eps1) }
        row[i] = (row[i] * beta2).addingProduct(oneMinus, Float(s / Double(n)))
      }
    }
  }

  /// acc[j] += Σ_i (g[i, j]² + eps1) over the m rows in order, in column blocks so each
  /// thread owns its columns (a tensor's slices, added in turn, sum as the whole tensor).
  func addColumnSums(_ g: UnsafePointer<Float>, rows m: Int, columns n: Int, into acc: UnsafeMutablePointer<Double>) {
    let colBlock = 64, eps1 = options.eps1
    Threads.parallelFor((n + colBlock - 1) / colBlock) { r in
      for blk in r {
        let lo = blk * colBlock, hi = min(lo + colBlock, n)
        for i in 0..<m {
          let gi = g + i * n
          for j in lo..<hi { acc[j] += Double(gi[j] * gi[j] + eps1) }
        }
      }
    }
  }

  /// Folds the column sums in `reduce` (summed over the ranks' rows) into the column state as
  /// means over `fullRows`, sets `colFactor` to rsqrt(col), and returns mean(row) over the ranks.
  func foldColumns(_ colState: AlignedBuffer<Float>, rows rowState: AlignedBuffer<Float>, fullRows: Double) -> Float {
    let beta2 = Float(self.beta2), oneMinus = Float(1 - self.beta2)
    let n = colState.count, col = colState.pointer, acc = reduce.pointer, cf = colFactor.pointer
    communicator.allReduce(acc, count: n)
    for j in 0..<n { col[j] = (col[j] * beta2).addingProduct(oneMinus, Float(acc[j] / fullRows)) }
    var rowSum = 0.0
    for i in 0..<rowState.count { rowSum += Double(rowState.pointer[i]) }
    for j in 0..<n { cf[j] = 1 / col[j].squareRoot() }
    return Float(communicator.sum(rowSum) / fullRows)
  }

  /// u = (rsqrt(row_i / rowMean) · colFactor_j) · g in place, for the m rows of g [m, n] whose
  /// row state is `row`.
  func scaleByMoments(_ g: UnsafeMutablePointer<Float>, rows m: Int, columns n: Int, row: UnsafePointer<Float>,
                      rowMean: Float) {
    let cf = colFactor.pointer
    Threads.parallelFor(m, minChunk: max(1, 8192 / max(n, 1))) { r in
      for i in r {
        let rf = 1 / (row[i] / rowMean).squareRoot()
        let gi = g + i * n
        for j in 0..<n { gi[j] = (rf * cf[j]) * gi[j] }
      }
    }
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
