import ArgumentParser
import LomoCore
import LomoOptim
import LomoTrain

/// The options of a training run's arithmetic, as `lomo train` reads them: each default is
/// `TrainingOptions`' own (the learning rate and clipping those of the chosen optimizer), and
/// `options(dtype:)` is the library value they describe.
struct TrainingArguments: ParsableArguments {
  private static let defaults = TrainingOptions()

  /// "lomo 0.03, adalomo 0.0003, ...": a default of each optimizer, for the help.
  private static func perOptimizer(_ value: (OptimizerKind) -> Float) -> String {
    OptimizerKind.allCases.map { "\($0.rawValue) \(String(format: "%g", value($0)))" }.joined(separator: ", ")
  }

  @Option(help: "Optimizer: lomo and adalomo update inside backward; sgd and adamw are baselines that hold every gradient.")
  var optimizer: OptimizerKind = defaults.optimizer

  @Option(parsing: .unconditional, help: "Peak learning rate. (default: the optimizer's, measured on SuperGLUE: \(perOptimizer(\.defaultLearningRate)))")
  var lr: Float?

  @Option(help: "Learning-rate schedule after the warmup.")
  var lrSchedule: LearningRateSchedule.Shape = defaults.schedule

  @Option(parsing: .unconditional, help: "Linear warmup: a step count (e.g. 10) or a ratio of the total steps (e.g. 0.1).")
  var warmup: LearningRateSchedule.Warmup = defaults.warmup

  @Option(parsing: .unconditional, help: "Passes over the training data.")
  var epochs: Int = TrainingOptions.defaultEpochs

  @Option(parsing: .unconditional, help: "Stop after this many steps instead of whole epochs (cycling the data as needed). (default: none)")
  var maxSteps: Int?

  @Option(parsing: .unconditional, help: "Examples per micro-batch (per step without --gradient-accumulation-steps).")
  var batchSize: Int = defaults.batchSize

  @Option(parsing: .unconditional, help: ArgumentHelp(
    "Micro-batches per optimizer step: a step trains on K × --batch-size examples, exactly as one batch of that size, holding layer activations for one micro-batch only.",
    valueName: "K"))
  var gradientAccumulationSteps: Int = defaults.gradientAccumulationSteps

  @Option(parsing: .unconditional, help: "Clip gradients to this global norm (LOMO and AdaLomo: a measuring backward pass first); 0 is off. (default: the optimizer's: \(perOptimizer(\.defaultClipGradNorm)))")
  var clipGradNorm: Float?

  @Option(parsing: .unconditional, help: "Clamp each gradient element to ± this value; 0 is off.")
  var clipGradValue: Float = defaults.clipGradValue

  @Option(parsing: .unconditional, help: "Decoupled weight decay.")
  var weightDecay: Float = defaults.weightDecay

  @Flag(help: "Keep only each layer's input in forward and recompute the layer in backward.")
  var activationCheckpointing = defaults.activationCheckpointing

  @Option(parsing: .unconditional, help: "Seed of the data order, of --limit/--eval-limit sampling and of stochastic rounding.")
  var seed: UInt64 = defaults.seed

  @Option(parsing: .unconditional, help: "Evaluate on --eval-data every N steps (0: only at the end).")
  var evalEvery: Int = defaults.evalEvery

  /// The options these arguments describe, for weights stored as `dtype`.
  func options(dtype: DType) -> TrainingOptions {
    var o = TrainingOptions(optimizer: optimizer)
    if let lr { o.learningRate = lr }
    o.schedule = lrSchedule
    o.warmup = warmup
    o.length = maxSteps.map(TrainingLength.maxSteps) ?? .epochs(epochs)
    o.batchSize = batchSize
    o.gradientAccumulationSteps = gradientAccumulationSteps
    o.dtype = dtype
    if let clipGradNorm { o.clipGradNorm = clipGradNorm }
    o.clipGradValue = clipGradValue
    o.weightDecay = weightDecay
    o.activationCheckpointing = activationCheckpointing
    o.seed = seed
    o.evalEvery = evalEvery
    return o
  }

  func validate() throws {
    let problems = options(dtype: .f32).problems
    if !problems.isEmpty { throw ValidationError(problems.joined(separator: "; ")) }
  }
}
