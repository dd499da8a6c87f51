import ArgumentParser

/// How `lomo generate` and `lomo chat` run a model: its storage type, streamed layers, threads.
struct GenerationRuntime: ParsableArguments {
  @OptionGroup(title: "Storage") var storage: DTypeOption
  @OptionGroup(title: "Models larger than memory") var streaming: StreamingOptions
  @OptionGroup var threads: ThreadsOption

  /// Sets the thread count, then loads `model` with its weights stored as --dtype (refused
  /// when they cannot fit in memory without --stream-weights).
  func load(_ model: ModelOption) throws -> LoadedModel {
    threads.apply()
    if !streaming.streamWeights { try StreamingPlan.refuseWeightsThatCannotFit(model.model, dtype: storage.dtype) }
    return try model.load(dtype: storage.dtype, streamingLayersIn: streaming.folderOrCurrent)
  }
}
