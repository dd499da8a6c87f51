import ArgumentParser
import Foundation
import LomoCore
import LomoDistributed
import LomoKernels
import LomoModel
import LomoTrain

/// `lomo bench`: the paper's memory and throughput tables (Tables 1 and 2) measured on this
/// machine: median step time, tokens/s, model FLOP utilisation, peak RSS and the memory
/// ledger's breakdown, for one case or (`--matrix`) for the paper's comparisons.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure training (or inference) speed and memory: one case, or the paper's comparison matrix.",
    discussion: """
      --model is an architecture by name, random-initialised (\(ModelCatalog.names.joined(separator: ", "))), \
      or a .gguf file / Hugging Face folder with real weights (speed does not depend on the values). \
      Every step runs on the same fixed token batch [B, T] (bench/torch_reference.py uses the same \
      one). After --warmup-steps untimed steps, --steps steps are timed and the median is reported. \
      MFU = model FLOPs (3 × forward for a training step; recomputation and a second backward \
      pass do not count) / median step time / the measured peak (f32: an FMA loop; bf16: the \
      fastest raw bf16 GEMM). Peak RSS is the process's VmHWM; the ledger splits lomo's own \
      allocations into parameters, gradients, optimizer state, activations and scratch.

      --matrix runs LOMO, AdaLomo, SGD and AdamW (with and without activation checkpointing, \
      f32 and bf16, with norm clipping) and inference on --model at --batch-size × --seq-len, \
      each case in a fresh process so that its peak RSS is its own, and prints a Markdown table. \
      --with-7b adds llama-7b (bf16, checkpointing, B=1) training and inference.

      Under `mpirun -n N` the case runs sharded (ZeRO-3) with --batch-size sequences per rank.
      --stream-weights runs the case with the layers' weights in a file (--stream-dir, default \
      the current folder) and --stream-budget of them in memory, and reports the bytes read and \
      written per step (the process's disk traffic, /proc/self/io) and the seconds waited for \
      layers not yet read.

      --dry-run prints the memory plan of the case on each of --ranks ranks (default: this job's)
      and exits without allocating the model: e.g. `lomo bench --model llama-65b --dtype bf16 \
      --activation-checkpointing --batch-size 1 --ranks 8 --dry-run`.
      """)

  @Option(help: "Architecture name (random weights) or a .gguf file / Hugging Face folder.")
  var model = "smollm2-135m"

  @Option(help: "What a step runs: \(BenchCase.Mode.allCases.map(\.rawValue).joined(separator: ", ")).")
  var optimizer: BenchCase.Mode = .lomo

  @OptionGroup(title: "Storage") var storage: DTypeOption
  var dtype: DType { storage.dtype }

  @Option(parsing: .unconditional, help: "Sequences per step (per micro-batch with --gradient-accumulation-steps).") var batchSize = 4
  @Option(parsing: .unconditional, help: ArgumentHelp("Micro-batches per training step (gradient accumulation).", valueName: "K"))
  var gradientAccumulationSteps = 1
  @Option(parsing: .unconditional, help: "Tokens per sequence.") var seqLen = 512
  @Option(parsing: .unconditional, help: "Timed steps.") var steps = 3
  @Option(parsing: .unconditional, help: "Untimed steps first (JIT, first-touch page faults).") var warmupSteps = 1

  @Flag(help: "Keep only layer inputs in forward and recompute layers in backward.")
  var activationCheckpointing = false

  @Option(parsing: .unconditional, help: "Clip gradients to this global norm (LOMO: a second backward pass); 0 is off.")
  var clipGradNorm: Float = 0

  @Flag(help: "Print the per-rank memory plan of the case and exit, allocating nothing.")
  var dryRun = false
  @Option(help: "With --dry-run: plan for this many ranks (default: the ranks of this job).")
  var ranks: Int?

  @Flag(help: "Print JSON instead of a table.") var json = false
  @Flag(help: "Run the comparison matrix and print a Markdown table.") var matrix = false
  @Flag(name: .customLong("with-7b"), help: "With --matrix: add the llama-7b cases (about 14 GiB and several minutes).")
  var with7b = false

  @OptionGroup(title: "Models larger than memory") var streaming: StreamingOptions
  @OptionGroup var threads: ThreadsOption

  @Option(parsing: .unconditional, help: .hidden) var peakGflops: Double?
  @Option(help: .hidden) var peakSource: String?

  func validate() throws {
    if batchSize < 1 || seqLen < 2 { throw ValidationError("--batch-size must be ≥ 1 and --seq-len ≥ 2") }
    if steps < 1 || warmupSteps < 0 { throw ValidationError("--steps must be ≥ 1 and --warmup-steps ≥ 0") }
    if gradientAccumulationSteps < 1 || (gradientAccumulationSteps > 1 && optimizer == .inference) {
      throw ValidationError("--gradient-accumulation-steps must be ≥ 1, and 1 for inference")
    }
    if !(clipGradNorm >= 0 && clipGradNorm.isFinite) { throw ValidationError("--clip-grad-norm must be finite and ≥ 0") }
    if let ranks, ranks < 1 || !dryRun { throw ValidationError("--ranks needs --dry-run and at least 1 rank") }
    if streaming.streamWeights && (matrix || dryRun) { throw ValidationError("--stream-weights runs one case, not --matrix or --dry-run") }
    if dryRun && ModelCatalog.config(named: model) == nil {
      throw ValidationError("--dry-run plans an architecture by name (\(ModelCatalog.names.joined(separator: ", ")))")
    }
    if ModelCatalog.config(named: model) == nil && !FileManager.default.fileExists(atPath: model) {
      throw ValidationError("--model '\(model)' is neither a known architecture (\(ModelCatalog.names.joined(separator: ", "))) nor an existing file or folder")
    }
  }

  var threadCount: Int { threads.count }

  var benchCase: BenchCase {
    BenchCase(model: model, mode: optimizer, dtype: dtype, batchSize: batchSize, seqLen: seqLen,
              activationCheckpointing: activationCheckpointing, clipGradNorm: clipGradNorm,
              gradientAccumulationSteps: gradientAccumulationSteps)
  }

  func run() throws {
    threads.apply()
    let world = Communicator.world
    if dryRun {
      if world.rank == 0 { print(plan(ranks: ranks ?? world.size)) }
      return
    }
    if matrix {
      guard !world.isDistributed else { throw CommandError("--matrix runs its cases one after the other in one process; run it without mpirun") }
      try BenchMatrix(base: self).run()
      return
    }
    let c = benchCase
    let parameters = try loadParameters(c)  // first: refuses a case that does not fit
    let peak: MachinePeak.Measurement
    if let peakGflops {
      peak = MachinePeak.Measurement(gflops: peakGflops, source: peakSource ?? "given")
    } else {
      progress("measuring the \(c.dtype == .bf16 ? "bf16" : "f32") peak")
      peak = MachinePeak.measure(for: c.dtype, threads: threadCount)
      // Its GEMM operands are freed: the peak RSS reported is the case's own.
      ProcessMemory.resetPeakResident()
    }
    let runner = BenchRunner(benchCase: c, warmupSteps: warmupSteps, steps: steps,
                             threads: threadCount, peak: peak, progress: progress)
    let result = runner.run(parameters: parameters)
    guard world.rank == 0 else { return }
    if json {
      print(String(decoding: try JSONValue(encoding: result).serialized([.sortedKeys]), as: UTF8.self))
    } else {
      print(BenchReport.summary(result))
    }
  }

  /// Random-initialised weights of a named architecture (after checking that they fit), or the
  /// weights of a checkpoint.
  private func loadParameters(_ c: BenchCase) throws -> LlamaParameters {
    let world = Communicator.world
    let folder = streaming.folder(default: FileManager.default.currentDirectoryPath)
    if folder != nil { try StreamingPlan.check(optimizer: c.mode.optimizer, ranks: world.size) }
    guard let config = ModelCatalog.config(named: c.model) else {
      progress("loading \(c.model)")
      let parameters = try ModelSource.resolve(c.model).loadParameters(dtype: c.dtype, shardedOver: world,
                                                                        streamingLayersIn: folder)
      try planStreaming(parameters.streamed, config: parameters.config, c).check()
      return parameters
    }
    let streamed = try folder.map { (f) throws(LayerFileError) in try StreamedLayers(config: config, dtype: c.dtype, folder: f) }
    let estimate = try planStreaming(streamed, config: config, c)
    try estimate.check(ranksOnThisHost: world.ranksOnThisHost())
    let perRank = world.isDistributed ? " per rank (\(world.size) ranks)" : ""
    progress("random-initialising \(c.model) (\(String(format: "%.2f", Double(config.parameterCount) / 1e9))B parameters, \(c.dtype)); estimated peak \(Format.bytes(estimate.processBytes))\(perRank)")
    return LlamaParameters.random(config: config, dtype: c.dtype, seed: 1, shardedOver: world, streamed: streamed)
  }

  /// The case's memory estimate; with `streamed` layers, after setting how many stay in memory.
  private func planStreaming(_ streamed: StreamedLayers?, config: LlamaConfig, _ c: BenchCase) throws -> MemoryEstimate {
    let estimate = try StreamingPlan.estimate(config: config, options: planOptions(c), maxSeqLen: c.seqLen,
                                              ranks: Communicator.world.size, streamed: streamed,
                                              streamBudget: streaming.streamBudget)
    if let streamed { progress(StreamingPlan.describe(streamed, of: config)) }
    return estimate
  }

  /// The memory plan of this case on each of `ranks` ranks (rank 0's, the largest shards).
  func plan(ranks: Int) -> String {
    let c = benchCase, config = ModelCatalog.config(named: c.model)!
    let estimate = Trainer.estimate(config: config, options: planOptions(c), maxSeqLen: c.seqLen, ranks: ranks)
    let available = MachineMemory.availableBytes
    var lines = [
      "memory plan: \(c.model) (\(String(format: "%.2f", Double(config.parameterCount) / 1e9))B parameters), \(c.label), \(c.shape) per rank, on \(ranks) rank\(ranks == 1 ? "" : "s") (nothing allocated)",
      estimate.table.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"),
      "  whole job: \(ranks) × \(Format.bytes(estimate.processBytes)) = \(Format.bytes(ranks * estimate.processBytes))",
    ]
    if let available {
      lines.append("  this machine has \(Format.bytes(available)) available: one rank \(estimate.processBytes <= available ? "fits" : "does not fit")")
    }
    return lines.joined(separator: "\n")
  }

  /// The training options a case's memory estimate uses.
  func planOptions(_ c: BenchCase) -> TrainingOptions {
    var options = c.trainingOptions ?? TrainingOptions()
    options.dtype = c.dtype
    options.batchSize = c.batchSize
    // Inference keeps less than a checkpointed training step: an over-estimate, on the safe side.
    if c.mode == .inference { options.activationCheckpointing = true }
    return options
  }

  private func progress(_ message: String) {
    guard Communicator.world.rank == 0 else { return }
    Diagnostics.note(message, from: "bench")
  }
}

extension BenchCase.Mode: ExpressibleByArgument {}
