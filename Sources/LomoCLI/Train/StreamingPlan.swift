import LomoCore
import LomoModel
import LomoTrain

/// What `--stream-weights` decides for `lomo train` and `lomo bench`: where it runs, how many
/// layers stay in memory, and the line that says so.
enum StreamingPlan {
  /// Refuses streaming over several ranks (they shard the parameters instead) and with the
  /// SGD/AdamW baselines (they hold a gradient of every parameter in memory anyway).
  static func check(optimizer: OptimizerKind?, ranks: Int) throws {
    guard ranks == 1 else {
      throw CommandError("--stream-weights runs in one process; under mpirun the parameters are sharded over the ranks instead: drop one of the two")
    }
    if let optimizer, optimizer == .sgd || optimizer == .adamw {
      throw CommandError("--stream-weights trains with --optimizer lomo or adalomo; the \(optimizer.rawValue) baseline holds a gradient of every parameter in memory")
    }
  }

  /// The run's memory estimate. With streamed layers it first sets how many of them stay in
  /// memory (`StreamingBudget`: `budget`, or what the available memory leaves).
  static func estimate(config: LlamaConfig, options: TrainingOptions, maxSeqLen: Int, ranks: Int,
                       streamed layers: StreamedLayers?, streamBudget budget: ByteCount?) throws -> MemoryEstimate {
    guard let layers else {
      return Trainer.estimate(config: config, options: options, maxSeqLen: maxSeqLen, ranks: ranks)
    }
    let withoutLayers = Trainer.estimate(config: config, options: options, maxSeqLen: maxSeqLen, residentLayers: 0)
    layers.residentLayers = try StreamingBudget.residentLayers(
      config: config, dtype: options.dtype, withoutLayers: withoutLayers, budgetBytes: budget?.bytes)
    return Trainer.estimate(config: config, options: options, maxSeqLen: maxSeqLen, residentLayers: layers.residentLayers)
  }

  /// Before a model is loaded into memory for training: refuses it at once when its weights
  /// alone (with one token of activations) exceed the available memory, which loading would
  /// otherwise find out by being killed; the refusal says what `--stream-weights` would need.
  /// The full estimate follows once the data is known.
  static func refuseWeightsThatCannotFit(_ argument: String, dtype: DType, optimizer: OptimizerKind,
                                         ranks: Int, ranksOnThisHost: Int) throws {
    var options = TrainingOptions()
    options.dtype = dtype
    options.optimizer = optimizer
    options.batchSize = 1
    options.activationCheckpointing = true
    let config = try ModelSource.resolve(argument).config()
    do {
      try Trainer.estimate(config: config, options: options, maxSeqLen: 1, ranks: ranks)
        .check(ranksOnThisHost: ranksOnThisHost)
    } catch let error as TrainingError {
      // The estimate at one token: the run needs at least this, so it is refused before loading.
      throw CommandError("before loading \(argument): " + "\(error)".replacingOccurrences(of: "needs about", with: "needs at least"))
    }
  }

  /// The same for `lomo eval` and `lomo generate` in one process: the weights alone against
  /// the available memory.
  static func refuseWeightsThatCannotFit(_ argument: String, dtype: DType,
                                         availableBytes: Int? = MachineMemory.availableBytes) throws {
    guard let availableBytes else { return }
    let config = try ModelSource.resolve(argument).config()
    let estimate = MemoryEstimate(config: config, dtype: dtype, optimizer: .lomo, batchSize: 1, maxSeqLen: 1,
                                  activationCheckpointing: true)
    let weights = estimate.bytes[.parameters] ?? 0
    guard weights > availableBytes else { return }
    throw CommandError("the weights of \(argument) need \(Format.bytes(weights)) in \(dtype) but only \(Format.bytes(availableBytes)) is available; add --stream-weights (the layers read from disk as they are needed)")
  }

  /// For `lomo eval` and `lomo generate` with streamed layers: sets how many stay in memory,
  /// planning as for a checkpointed training step of `batchSize` sequences of `maxSeqLen`
  /// (more than an inference pass holds: on the safe side), and says so on stderr.
  static func planInference(_ parameters: LlamaParameters, batchSize: Int, maxSeqLen: Int,
                            streamBudget budget: ByteCount?, from command: String) throws {
    guard let layers = parameters.streamed else { return }
    var options = TrainingOptions()
    options.dtype = parameters.dtype
    options.batchSize = batchSize
    options.activationCheckpointing = true
    try estimate(config: parameters.config, options: options, maxSeqLen: maxSeqLen, ranks: 1,
                 streamed: layers, streamBudget: budget).check()
    Diagnostics.note(describe(layers, of: parameters.config), from: command)
  }

  /// "layers streamed through ...": the file, its size and how many layers stay in memory.
  static func describe(_ layers: StreamedLayers, of config: LlamaConfig) -> String {
    "layers streamed through a \(Format.bytes(layers.fileBytes)) file in \(layers.folder) (removed at exit): "
      + "\(layers.residentLayers) of \(config.layers) layers in memory (\(Format.bytes(layers.residentLayers * layers.layerBytes)))"
      + (layers.residentLayers >= config.layers ? "; every layer fits in memory, so --stream-weights only adds disk writes here" : "")
  }
}
