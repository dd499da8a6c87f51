import ArgumentParser
import LomoModel
import LomoTrain

/// `lomo train`: full-parameter fine-tuning from a JSONL file.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Fine-tune every parameter of a model on a JSONL data file (LOMO by default).",
    discussion: """
      Every option can also come from --config FILE (flat YAML or JSON, keys are the long \
      option names, e.g. 'max-steps: 100' or {"lr": 0.01}); options given on the command line \
      override the file. Before training, the run's peak memory is estimated and the run is \
      refused when it exceeds the machine's available memory.

      The output folder (--output OUTPUT):
        OUTPUT/final/       the model after the last step
        OUTPUT/best/        the model at the best evaluation (with --eval-data)
        OUTPUT/checkpoint/  Ctrl-C: a resumable checkpoint (lomo's own format);
                            continue: same options + --resume OUTPUT/checkpoint
      With --save-format gguf, final/ and best/ hold model.gguf (llama.cpp; tensors in the \
      --dtype storage type, tokenizer metadata copied from a GGUF --model). With safetensors \
      they are Hugging Face folders (config.json, model.safetensors, tokenizer files) that \
      transformers loads. Either loads back with lomo eval --model.

      Over several processes or machines: mpirun -n N lomo train ... (check the ranks first \
      with mpirun -n N lomo cluster-check). The parameters are sharded over the ranks \
      (ZeRO-3), each step takes N × --batch-size examples, rank 0 writes the output folder. \
      Stop such a run with kill -USR1 on mpirun (Ctrl-C ends every rank without a checkpoint); \
      each rank writes its part to OUTPUT/checkpoint/rank-R-of-N, resumed with the same N.

      A model larger than memory trains with --stream-weights: the layers' weights live in a \
      file (in the output folder, or --stream-dir) and only --stream-budget of them in memory; \
      each layer is read before it runs, the next one meanwhile, and written back after its \
      update. The results are bit-identical to training in memory.
      """)

  @OptionGroup(title: "Model") var model: ModelOption
  @OptionGroup(title: "Data") var data: DataOptions
  @OptionGroup(title: "Data") var chat: ChatDataOptions
  @OptionGroup(title: "Evaluation") var evaluation: EvaluationDataOptions
  @OptionGroup(title: "Training") var training: TrainingArguments
  @OptionGroup(title: "Storage") var storage: DTypeOption
  @OptionGroup(title: "Output") var output: OutputOptions
  @OptionGroup(title: "Models larger than memory") var streaming: StreamingOptions
  @OptionGroup var threads: ThreadsOption

  @Option(help: "Read options from a YAML or JSON file; command-line options override it. (default: none)")
  var config: String?

  /// The options of the run's arithmetic.
  var trainingOptions: TrainingOptions { training.options(dtype: storage.dtype) }

  func validate() throws {
    if training.evalEvery > 0 && evaluation.evalData == nil {
      throw ValidationError("--eval-every needs --eval-data, the file to evaluate on")
    }
  }

  func run() throws {
    threads.apply()
    try TrainRun(self).run()
  }
}

/// `lomo train`'s evaluation data: another file in the training data's format.
struct EvaluationDataOptions: ParsableArguments {
  @Option(help: "Evaluation data, same formats as --data. Multiple-choice data (SuperGLUE, choices) is scored by accuracy, anything else by mean loss (score = minus the loss). (default: none)")
  var evalData: String?

  @Option(parsing: .unconditional, help: "Evaluate on at most this many examples of --eval-data, sampled with --seed. (default: all)")
  var evalLimit: Int?

  func validate() throws {
    if let evalLimit, evalLimit < 1 { throw ValidationError("--eval-limit must be at least 1") }
  }
}
