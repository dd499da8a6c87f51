import ArgumentParser
import LomoTrain

/// Where a training run writes: the output folder and its model format, the metrics file, and
/// whether it continues from a checkpoint or may replace earlier outputs.
struct OutputOptions: ParsableArguments {
  @Option(help: "Output folder: OUTPUT/final (the trained model), OUTPUT/best (best evaluation, the starting model included), OUTPUT/checkpoint (Ctrl-C, resumable), OUTPUT/run.json (the run record), OUTPUT/README.md (model card), OUTPUT/run.svg (plot).")
  var output: String

  @Option(help: "Format of final/ and best/: gguf (final/model.gguf) or safetensors (a Hugging Face folder). (default: gguf when --model is a GGUF file, else safetensors)")
  var saveFormat: TrainingOutput.Format?

  @Option(help: "Write one JSON object per step, and one per evaluation, to this file. (default: none)")
  var metrics: String?

  @Option(help: "Continue bit-exactly from a checkpoint folder written by an earlier run with the same options (--lr, clipping and a longer --max-steps/--epochs may differ). (default: none)")
  var resume: String?

  @Option(parsing: .unconditional, help: "Also write the resumable checkpoint OUTPUT/checkpoint every N steps (replacing the previous one), so that a run killed outright or lost with its machine resumes from there. (default: only on Ctrl-C and failures)")
  var saveEvery: Int?

  @Option(parsing: .unconditional, help: "With --save-every: keep this many of the newest periodic checkpoints, the newest in OUTPUT/checkpoint and the earlier ones as OUTPUT/checkpoint-STEP (kept after the run finishes). One process only.")
  var keepCheckpoints = 1

  @Flag(help: "When the run finishes, keep OUTPUT/checkpoint at its last step, so that --resume with a larger --max-steps or --epochs extends it. (default: a finished run removes its checkpoint)")
  var keepCheckpoint = false

  @Flag(help: "Replace existing outputs (without it, an existing final/ or best/ is never overwritten).")
  var overwrite = false

  func validate() throws {
    if let saveEvery, saveEvery < 1 { throw ValidationError("--save-every must be at least 1 step") }
    if keepCheckpoints < 1 { throw ValidationError("--keep-checkpoints must be at least 1") }
    if keepCheckpoints > 1 && saveEvery == nil { throw ValidationError("--keep-checkpoints needs --save-every") }
  }
}
