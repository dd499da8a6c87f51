import LomoCore
import LomoOptim

/// Which update rule a `Trainer` runs.
public enum OptimizerKind: String, Sendable, Equatable, Codable, CaseIterable {
  /// SGD fused into backward (no optimizer state, one live gradient).
  case lomo
  /// LOMO with Adafactor-style factored second moments, fused into backward.
  case adalomo
  /// Plain SGD holding every gradient (baseline).
  case sgd
  /// AdamW holding every gradient and two moments per parameter (baseline).
  case adamw
}

/// The defaults `lomo train` uses when an option is not given, chosen by measurement: the
/// SuperGLUE sweep of `scripts/superglue_sweep.sh` (reports in `docs/superglue-sweep/`, tables
/// in the README), each setting judged on development splits carved from the training data.
extension OptimizerKind {
  /// The optimizer when none is named: AdaLomo. On the sweep it tied LOMO's chosen rate (mean
  /// development score 58.8 against 60.4 on six tasks, within the splits' 2.2-point standard
  /// error) while needing no measuring backward pass (its update is normalised, so it runs
  /// unclipped: one backward a step where clipped LOMO runs two, about 1.5x faster) and varying
  /// less with its learning rate (58.2 to 58.8 over a tenfold range; LOMO 54.7 to 60.4). Its cost is
  /// (m + n) f32 of state per [m, n] matrix.
  public static let recommended: OptimizerKind = .adalomo

  /// The peak learning rate when none is given: of the swept rates, the smallest whose mean
  /// development score is within one standard error of the best (the one-standard-error rule;
  /// `scripts/superglue_sweep.py choose`). SGD is LOMO's rule holding every gradient, so it
  /// shares LOMO's.
  public var defaultLearningRate: Float {
    switch self {
    case .lomo, .sgd: 0.03
    case .adalomo: 3e-4
    case .adamw: 1e-5
    }
  }

  /// The global gradient-norm clipping when none is given: 1.0 for LOMO and SGD (the paper's,
  /// and how they were swept: unclipped plain SGD at these rates is at the mercy of one large
  /// gradient); 0 (off) for AdaLomo and AdamW, whose updates are normalised per parameter and
  /// which were swept without it.
  public var defaultClipGradNorm: Float {
    switch self {
    case .lomo, .sgd: 1.0
    case .adalomo, .adamw: 0
    }
  }
}

/// When training stops: after whole epochs over the data, or after a fixed number of steps
/// (cycling epochs as needed).
public enum TrainingLength: Sendable, Equatable, Codable {
  case epochs(Int)
  case maxSteps(Int)
}

/// Everything that decides a training run's arithmetic. Two runs with equal options, data and
/// initial weights produce bit-identical parameters (for a fixed thread count). The defaults
/// are the measured ones (`OptimizerKind.recommended` and its learning rate and clipping, the
/// sweep's linear schedule after a 10% warmup).
public struct TrainingOptions: Sendable, Equatable, Codable {
  public var optimizer: OptimizerKind = .recommended
  /// Peak learning rate.
  public var learningRate: Float = OptimizerKind.recommended.defaultLearningRate
  public var schedule: LearningRateSchedule.Shape = .linear
  public var warmup: LearningRateSchedule.Warmup = .ratio(0.1)
  public var length: TrainingLength = .epochs(Self.defaultEpochs)
  /// Sequences per micro-batch: what the model holds activations for at once.
  public var batchSize: Int = 8
  /// Micro-batches per optimizer step (K): a step trains on K · batchSize sequences, exactly
  /// as one batch of that size would, their gradients summed layer by layer.
  public var gradientAccumulationSteps: Int = 1
  /// Parameter storage; the caller loads the weights in this dtype.
  public var dtype: DType = .f32
  /// Global-norm clipping (0: off); for LOMO a measuring backward pass first.
  public var clipGradNorm: Float = OptimizerKind.recommended.defaultClipGradNorm
  /// Element-wise clamp of gradients (0: off).
  public var clipGradValue: Float = 0
  public var weightDecay: Float = 0
  public var activationCheckpointing: Bool = false
  /// Seeds the data order (per epoch: seed + epoch) and the optimizer's rounding generator.
  public var seed: UInt64 = 42
  /// Evaluate every this many steps (0: only at the end, when an evaluation is given).
  public var evalEvery: Int = 0
  /// Dynamic loss scaling, used with f16 storage.
  public var lossScale = LossScaleOptions()
  /// Batches per length-grouping chunk (see `DataOrder`).
  public var groupChunkBatches: Int = 50

  public init() {}

  /// The defaults with `optimizer` and its own learning rate and clipping.
  public init(optimizer: OptimizerKind) {
    self.optimizer = optimizer
    learningRate = optimizer.defaultLearningRate
    clipGradNorm = optimizer.defaultClipGradNorm
  }

  /// Sequences per optimizer step: batchSize × gradientAccumulationSteps.
  public var sequencesPerStep: Int { batchSize * gradientAccumulationSteps }

  /// Passes over the data when no step count is given.
  public static let defaultEpochs = 1

  /// Loss-scaler settings (for f16 storage only; bf16 and f32 run unscaled).
  public struct LossScaleOptions: Sendable, Equatable, Codable {
    public var initialScale: Float = 65536
    public var factor: Float = 2
    public var window: Int = 1000
    public var minScale: Float = 1
    public init() {}
  }

  /// Problems with these options, empty when they are usable.
  public var problems: [String] {
    var p: [String] = []
    if !(learningRate >= 0 && learningRate.isFinite) { p.append("learning rate must be finite and >= 0") }
    if batchSize < 1 { p.append("batch size must be at least 1") }
    if gradientAccumulationSteps < 1 { p.append("gradient accumulation steps must be at least 1") }
    if batchSize >= 1 && gradientAccumulationSteps >= 1
      && batchSize.multipliedReportingOverflow(by: gradientAccumulationSteps).overflow
    {
      p.append("batch size × gradient accumulation steps is too large")
    }
    switch length {
    case .epochs(let e) where e < 1: p.append("epochs must be at least 1")
    case .maxSteps(let s) where s < 1: p.append("max steps must be at least 1")
    default: break
    }
    switch warmup {
    case .steps(let w) where w < 0: p.append("warmup steps must not be negative")
    case .ratio(let r) where !(r >= 0 && r <= 1): p.append("warmup ratio must be in [0, 1]")
    default: break
    }
    // Written as "not >= 0" so that NaN fails too.
    if !(clipGradNorm >= 0 && clipGradNorm.isFinite) || !(clipGradValue >= 0 && clipGradValue.isFinite) {
      p.append("clipping thresholds must be finite and >= 0")
    }
    if !(weightDecay >= 0 && weightDecay.isFinite) { p.append("weight decay must be finite and >= 0") }
    if evalEvery < 0 { p.append("eval-every must not be negative") }
    if groupChunkBatches < 1 { p.append("group chunk must be at least 1 batch") }
    return p
  }
}

extension TrainingOptions {
  private enum CodingKeys: String, CodingKey {
    case optimizer, learningRate, schedule, warmup, length, batchSize, gradientAccumulationSteps,
      dtype, clipGradNorm, clipGradValue, weightDecay, activationCheckpointing, seed, evalEvery,
      lossScale, groupChunkBatches
  }

  /// Reads the options of a checkpoint; a field it lacks (written before the field existed)
  /// takes its default, which is the behaviour the writer had.
  public init(from decoder: Decoder) throws {
    self.init()
    let c = try decoder.container(keyedBy: CodingKeys.self)
    func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
      value = try c.decodeIfPresent(T.self, forKey: key) ?? value
    }
    try read(.optimizer, &optimizer)
    try read(.learningRate, &learningRate)
    try read(.schedule, &schedule)
    try read(.warmup, &warmup)
    try read(.length, &length)
    try read(.batchSize, &batchSize)
    try read(.gradientAccumulationSteps, &gradientAccumulationSteps)
    try read(.dtype, &dtype)
    try read(.clipGradNorm, &clipGradNorm)
    try read(.clipGradValue, &clipGradValue)
    try read(.weightDecay, &weightDecay)
    try read(.activationCheckpointing, &activationCheckpointing)
    try read(.seed, &seed)
    try read(.evalEvery, &evalEvery)
    try read(.lossScale, &lossScale)
    try read(.groupChunkBatches, &groupChunkBatches)
  }
}
