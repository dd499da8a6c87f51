import Foundation
import LomoCore
import LomoModel
import LomoOptim
import LomoTrain

/// One configuration that `lomo bench` times: a model, what runs (an optimizer's training step,
/// or inference), and the batch shape.
struct BenchCase: Codable, Sendable, Equatable {
  /// What one timed step is.
  enum Mode: String, Codable, CaseIterable, Sendable {
    case lomo, adalomo, sgd, adamw
    /// Forward only, keeping no activations (`LlamaModel.loss`): the inference peak and speed
    /// that training is compared against.
    case inference

    var optimizer: OptimizerKind? { OptimizerKind(rawValue: rawValue) }

    /// The name in tables.
    var displayName: String {
      switch self {
      case .lomo: "LOMO"
      case .adalomo: "AdaLomo"
      case .sgd: "SGD"
      case .adamw: "AdamW"
      case .inference: "inference"
      }
    }
  }

  var model: String
  var mode: Mode
  var dtype: DType
  /// Sequences per micro-batch.
  var batchSize: Int
  var seqLen: Int
  var activationCheckpointing = false
  /// Global gradient-norm clipping (0: off). For LOMO/AdaLomo it costs a second backward pass.
  var clipGradNorm: Float = 0
  /// Micro-batches per step (gradient accumulation; training only).
  var gradientAccumulationSteps = 1

  var sequencesPerStep: Int { gradientAccumulationSteps * batchSize }
  var tokensPerStep: Int { sequencesPerStep * seqLen }

  /// The step's shape for tables: "B×T", or "K×B×T" with accumulation.
  var shape: String {
    (gradientAccumulationSteps == 1 ? "" : "\(gradientAccumulationSteps)×") + "\(batchSize)×\(seqLen)"
  }

  /// A short description for tables, e.g. "LOMO bf16, checkpointing, clip 1.0".
  var label: String {
    var parts = ["\(mode.displayName) \(dtype)"]
    if activationCheckpointing { parts.append("checkpointing") }
    if clipGradNorm > 0 { parts.append("clip \(clipGradNorm)") }
    if gradientAccumulationSteps > 1 { parts.append("\(gradientAccumulationSteps) micro-batches") }
    return parts.joined(separator: ", ")
  }

  /// The `lomo bench` arguments that run this case alone.
  var arguments: [String] {
    var a = ["--model", model, "--optimizer", mode.rawValue, "--dtype", dtype.rawValue,
             "--batch-size", "\(batchSize)", "--seq-len", "\(seqLen)"]
    if activationCheckpointing { a.append("--activation-checkpointing") }
    if clipGradNorm > 0 { a += ["--clip-grad-norm", "\(clipGradNorm)"] }
    if gradientAccumulationSteps > 1 { a += ["--gradient-accumulation-steps", "\(gradientAccumulationSteps)"] }
    return a
  }

  /// The training options of this case (nil for inference). The learning rate only changes the
  /// values, not the work.
  var trainingOptions: TrainingOptions? {
    guard let optimizer = mode.optimizer else { return nil }
    var o = TrainingOptions()
    o.optimizer = optimizer
    o.dtype = dtype
    o.batchSize = batchSize
    o.gradientAccumulationSteps = gradientAccumulationSteps
    o.learningRate = 1e-5
    o.clipGradNorm = clipGradNorm
    o.activationCheckpointing = activationCheckpointing
    return o
  }

  /// The fixed token batch [B, T] of every benchmark, lomo's and `bench/torch_reference.py`'s:
  /// token i (flat index b·T + t) is (i · 2654435761 + 1) mod V. Targets are the next token of
  /// the same sequence, ignored (-100) at each sequence's last position, as Hugging Face's
  /// shifted labels.
  static func tokenBatch(batch: Int, time: Int, vocab: Int) -> (tokens: [Int32], targets: [Int32]) {
    let tokens = (0..<batch * time).map { Int32((UInt64($0) &* 2_654_435_761 &+ 1) % UInt64(vocab)) }
    let targets = tokens.indices.map { i in (i + 1) % time == 0 ? Int32(-100) : tokens[i + 1] }
    return (tokens, targets)
  }
}

/// What `lomo bench` measured for one case (`--json` prints it).
struct BenchResult: Codable, Sendable {
  var benchCase: BenchCase
  var parameterCount: Int
  var warmupSteps: Int
  /// Seconds of each timed step.
  var stepSeconds: [Double]
  var medianStepSeconds: Double
  var tokensPerSecond: Double
  /// Backward passes per training step (2 with LOMO's two-pass norm clipping), 0 for inference.
  var backwardPasses: Int
  /// Model FLOPs of one step: 3× forward for training, 1× for inference (`forwardFLOPs`).
  var modelFLOPsPerStep: Double
  var achievedGFLOPS: Double
  var peak: MachinePeak.Measurement
  /// Model FLOP utilisation: achieved / peak of the storage type's GEMMs.
  var mfu: Double
  var peakRSSBytes: Int
  /// CPU seconds per timed step in user code and in the kernel (every thread; nil in results
  /// written before they were measured).
  var userSecondsPerStep: Double? = nil
  var systemSecondsPerStep: Double? = nil
  /// The ledger's peak bytes per category (parameters, gradients, optimizerState, activations,
  /// scratch).
  var ledgerPeakBytes: [String: Int]
  var threads: Int
  var machine: String
  var date: String
  /// Over several ranks (mpirun): what each rank held and sent; nil in one process.
  var ranks: RankReport? = nil
  /// With the layers streamed from disk: what they cost; nil in memory.
  var streaming: StreamingReport? = nil
}

/// A bench case with its layers streamed from a file (`--stream-weights`), per timed step.
struct StreamingReport: Codable, Sendable {
  var folder: String
  var fileBytes: Int
  var residentLayers: Int
  var layers: Int
  /// The process's disk traffic (/proc/self/io read_bytes and write_bytes; nil where unknown).
  var diskReadBytesPerStep: Double?
  var diskWrittenBytesPerStep: Double?
  /// Layer bytes `StreamedLayers` read from the file and wrote back.
  var layerBytesReadPerStep: Double
  var layerBytesWrittenPerStep: Double
  /// Seconds the model waited for layers not yet read (I/O not hidden behind compute).
  var waitSecondsPerStep: Double
}

/// A bench case on N ranks (ZeRO-3): tokens/s, FLOPs and the peak above are of the whole
/// job (N × B sequences a step; the peak is the sum of the ranks' peaks), the step time rank 0's.
struct RankReport: Codable, Sendable {
  var count: Int
  /// Each rank's VmHWM, in rank order.
  var peakRSSBytes: [Int]
  /// Bytes rank 0 sent per timed step, as bandwidth-optimal collectives send them
  /// (`Traffic`).
  var sentBytesPerStep: Double
  /// ZeRO's 3Ψ for one backward pass, per rank: Ψ parameters gathered twice in the storage
  /// dtype and reduce-scattered once in f32, each (N − 1)/N of the whole.
  var zeroBytesPerStep: Double
  /// Seconds per timed step that rank 0 waited for weight gathers (communication not hidden
  /// behind compute; reduce-scatters block and are not counted).
  var gatherWaitSecondsPerStep: Double
  /// Seconds per timed step rank 0 spent in blocking all-reduces and reduce-scatters.
  var blockedSecondsPerStep: Double
}

/// Runs a `BenchCase` on random-initialised or loaded weights.
struct BenchRunner {
  var benchCase: BenchCase
  var warmupSteps: Int
  var steps: Int
  var threads: Int
  var peak: MachinePeak.Measurement
  var progress: (String) -> Void

  func run(parameters: LlamaParameters) -> BenchResult {
    let c = benchCase, world = parameters.communicator
    let model = LlamaModel(parameters: parameters, activationCheckpointing: c.activationCheckpointing)
    var sentBefore = world.traffic.bytes, waitedBefore = 0.0, blockedBefore = 0.0
    var streamedBefore = parameters.streamed?.statistics, diskBefore = ProcessMemory.storageBytes
    var cpuBefore = ProcessMemory.cpuSeconds
    let (tokens, targets) = BenchCase.tokenBatch(batch: c.sequencesPerStep, time: c.seqLen,
                                                 vocab: parameters.config.vocabSize)
    let training = c.trainingOptions
    let stepper = training.map { LomoStep(model: model, options: $0) }
    var seconds: [Double] = []
    var passes = 0
    for i in 0..<(warmupSteps + steps) {
      let s = Stopwatch.seconds {
        if let stepper, let training {
          passes = stepper.step(tokens: tokens, targets: targets, batch: c.sequencesPerStep,
                                time: c.seqLen, microBatches: c.gradientAccumulationSteps,
                                learningRate: training.learningRate).backwardPasses
        } else {
          _ = model.loss(tokens: tokens, targets: targets, batch: c.batchSize, time: c.seqLen)
        }
      }
      let warm = i < warmupSteps
      if !warm { seconds.append(s) }
      if i + 1 == warmupSteps {
        (sentBefore, waitedBefore, blockedBefore) = (world.traffic.bytes, model.gatherWaitSeconds, world.traffic.blockedSeconds)
        (streamedBefore, diskBefore) = (parameters.streamed?.statistics, ProcessMemory.storageBytes)
        cpuBefore = ProcessMemory.cpuSeconds
      }
      progress(String(format: "step %d/%d%@: %.2f s", i + 1, warmupSteps + steps, warm ? " (warm-up)" : "", s))
    }
    let median = seconds.median, n = world.size
    let flops = parameters.config.forwardFLOPs(batch: c.sequencesPerStep * n, time: c.seqLen)
      * (stepper == nil ? 1 : 3)
    let gflops = flops / median / 1e9
    let ledger = MemoryLedger.shared.usage.peak
    var jobPeak = peak
    var ranks: RankReport?
    if world.isDistributed {
      jobPeak.gflops = world.sum(peak.gflops)
      jobPeak.source = "sum of \(n) ranks': " + peak.source
      var rss = [Int64](repeating: 0, count: n)
      world.allGather([Int64(ProcessMemory.peakResidentBytes ?? 0)], into: &rss, counts: Array(repeating: 1, count: n))
      let psi = Double(parameters.config.parameterCount), share = Double(n - 1) / Double(n)
      ranks = RankReport(count: n, peakRSSBytes: rss.map(Int.init),
                         sentBytesPerStep: (world.traffic.bytes - sentBefore) / Double(steps),
                         zeroBytesPerStep: psi * Double(2 * c.dtype.byteSize + 4) * share,
                         gatherWaitSecondsPerStep: (model.gatherWaitSeconds - waitedBefore) / Double(steps),
                         blockedSecondsPerStep: (world.traffic.blockedSeconds - blockedBefore) / Double(steps))
    }
    let cpu = ProcessMemory.cpuSeconds
    var streaming: StreamingReport?
    if let layers = parameters.streamed, let before = streamedBefore {
      let now = layers.statistics, disk = ProcessMemory.storageBytes, perStep = 1 / Double(steps)
      streaming = StreamingReport(
        folder: layers.folder, fileBytes: layers.fileBytes, residentLayers: layers.residentLayers,
        layers: parameters.config.layers,
        diskReadBytesPerStep: disk.flatMap { d in diskBefore.map { Double(d.read - $0.read) * perStep } },
        diskWrittenBytesPerStep: disk.flatMap { d in diskBefore.map { Double(d.written - $0.written) * perStep } },
        layerBytesReadPerStep: Double(now.bytesRead - before.bytesRead) * perStep,
        layerBytesWrittenPerStep: Double(now.bytesWritten - before.bytesWritten) * perStep,
        waitSecondsPerStep: (now.waitSeconds - before.waitSeconds) * perStep)
    }
    return BenchResult(
      benchCase: c, parameterCount: parameters.config.parameterCount, warmupSteps: warmupSteps,
      stepSeconds: seconds, medianStepSeconds: median,
      tokensPerSecond: Double(c.tokensPerStep * n) / median, backwardPasses: passes,
      modelFLOPsPerStep: flops, achievedGFLOPS: gflops, peak: jobPeak, mfu: gflops / jobPeak.gflops,
      peakRSSBytes: ProcessMemory.peakResidentBytes ?? 0,
      userSecondsPerStep: (cpu.user - cpuBefore.user) / Double(steps),
      systemSecondsPerStep: (cpu.system - cpuBefore.system) / Double(steps),
      ledgerPeakBytes: Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.map { ($0.rawValue, ledger[$0] ?? 0) }),
      threads: threads, machine: MachinePeak.machineDescription(threads: threads),
      date: ISO8601DateFormatter().string(from: Date()), ranks: ranks, streaming: streaming)
  }
}
