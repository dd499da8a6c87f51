import Foundation
import LomoCore
import LomoKernels
import LomoModel

/// The predicted peak memory of a training run, by `MemoryCategory`, from the model shape and
/// the options alone (nothing is allocated). It mirrors what `LlamaModel` and the optimizers
/// register with the `MemoryLedger`:
///
/// - parameters: every tensor at the storage dtype;
/// - activations: the residual stream at every layer boundary for all K micro-batches of
///   batch × maxSeqLen (bf16 for bf16 weights, with two f32 [N, C] buffers to read and write
///   it), plus the per-layer saved values of every layer (one layer's worth of one micro-batch
///   with activation checkpointing or K > 1);
/// - gradients: LOMO/AdaLomo one buffer of the largest (non-tied) tensor plus the [V, C] sum
///   of a tied embedding and the final norm's sum; with K > 1 one layer's gradient sum instead
///   of the largest tensor where the LM head is tied; untied in one process, one row slice of
///   the [V, C] gradients (handed over in slices) instead of a [V, C] buffer;
///   SGD/AdamW additionally a full f32 gradient per parameter;
/// - optimizer state: AdaLomo's factored second moments, AdamW's two f32 moments;
/// - scratch: backward's activation gradients of one block (the residual gradient of every
///   micro-batch) and the optimizers' buffers.
///
/// Over N ranks (ZeRO-3) it is the plan of rank 0, which holds the largest shards: parameters
/// and optimizer state of its `RowShard` of every tensor (AdaLomo's column state stays whole),
/// gathered weights of two whole layers, the [V, C] table and the final norm, and one more
/// gradient buffer for this rank's part of a reduce-scattered gradient; activations and the
/// whole-tensor gradient buffers are those of one process with this rank's batch. Open MPI's
/// reduce-scatter keeps a temporary copy of the largest whole f32 gradient (in the overhead).
///
/// With the layers streamed from disk (`residentLayers` set, one process) the parameters are
/// the embedding, LM head and final norm plus that many layers (`StreamedLayers.layerBytes`).
///
/// `processBytes` adds what the ledger of a model does not see: the kernels' own scratch
/// (cross-entropy chunk, GEMM packing) and the runtime (code, allocator, tokenizer).
public struct MemoryEstimate: Sendable, Equatable {
  public var bytes: [MemoryCategory: Int]
  /// Kernel scratch and runtime, outside the model's ledger.
  public var overheadBytes: Int
  /// Layers in memory when the layers stream from disk; nil when every layer is in memory.
  public var residentLayers: Int?
  /// For a run in memory in one process: `processBytes` of the same run with its layers
  /// streamed from disk, two of them in memory (the least that overlaps reading and compute).
  public var streamedAlternativeBytes: Int?

  /// What the ledger of the model and optimizer should peak at.
  public var ledgerBytes: Int { bytes.values.reduce(0, +) }
  /// The estimate of the process's peak resident memory.
  public var processBytes: Int { ledgerBytes + overheadBytes }

  public static let runtimeOverheadBytes = 192 << 20

  /// `batchSize` sequences per micro-batch, `microBatches` K per step, on each of `ranks`;
  /// `residentLayers` of the layers in memory when they stream from disk.
  public init(config c: LlamaConfig, dtype: DType, optimizer: OptimizerKind, batchSize: Int,
              maxSeqLen: Int, activationCheckpointing: Bool, microBatches: Int = 1, ranks: Int = 1,
              residentLayers: Int? = nil) {
    let f = 4  // f32 bytes
    let ids = ParameterID.all(for: c)
    let counts = ids.map { $0.shape(in: c).reduce(1, *) }
    // Rank 0's shards (the whole tensors in one process).
    let shards = ids.map { RowShard(fullShape: $0.shape(in: c), rank: 0, ranks: ranks) }
    let shardCounts = shards.map(\.elements.count)
    let heldCount = shardCounts.reduce(0, +)
    let n = batchSize * maxSeqLen, K = microBatches
    let C = c.hiddenSize, Q = c.queryDim, KV = c.kvDim, F = c.intermediateSize
    let recomputes = activationCheckpointing || K > 1

    // Per-head query/key norms save q and k before the norm and 1/RMS per head row.
    let queryKeyNorm = c.family.hasQueryKeyNorm ? n * (Q + KV) + n * (c.heads + c.kvHeads) : 0
    // Norms of the attention and MLP outputs save both outputs and their 1/RMS.
    let postNorms = c.family.hasPostNorms ? 2 * n * C + 2 * n : 0
    let perLayer = n * (3 * C + 2 * Q + 2 * KV + 3 * F) + 2 * n + n * c.heads + queryKeyNorm + postNorms
    let residualBytes = dtype == .bf16 ? (c.layers + 1) * K * n * C * 2 + 2 * n * C * f
      : (c.layers + 1) * K * n * C * f
    let forwardState = (recomputes ? 1 : c.layers) * perLayer + n * C + n + 2 * K * n
    var b: [MemoryCategory: Int] = [:]
    b[.parameters] = heldCount * dtype.byteSize
    if let residentLayers {
      let layerCounts = zip(ids, shardCounts).filter { $0.0.layer != nil }.map(\.1).reduce(0, +)
      b[.parameters] = (heldCount - layerCounts) * dtype.byteSize
        + residentLayers * StreamedLayers.layerBytes(config: c, dtype: dtype)
    }
    self.residentLayers = residentLayers
    b[.activations] = residualBytes + forwardState * f

    // LOMO and AdaLomo take the untied [V, C] gradients in row slices (one micro-batch, one
    // process, a vocabulary of more than one slice): one slice buffer instead of [V, C].
    let sliceRows = RowSlicedGradient.defaultSliceRows(columns: C)
    let inSlices = !c.tiedEmbeddings && ranks == 1 && c.vocabSize > sliceRows
      && (optimizer == .lomo || optimizer == .adalomo)
    // Handed over from one shared buffer (as `LlamaModel.prepareGradients` sizes it): the layer
    // tensors when not accumulating, the untied [V, C] ones when not in slices.
    let direct = zip(ids, counts).filter { id, _ in
      id.layer != nil ? K == 1 : !inSlices && !(c.tiedEmbeddings && id == .embedding)
    }.map(\.1)
    let layerCount = ParameterID.LayerParameter.present(in: c).reduce(0) {
      $0 + ParameterID.layer(0, $1).shape(in: c).reduce(1, *)
    }
    let sharedBuffer = K > 1 && c.tiedEmbeddings ? 0 : direct.max() ?? 0
    var gradients = sharedBuffer + (c.tiedEmbeddings ? c.vocabSize * C : 0)
      + (K > 1 ? max(layerCount, C) : C) + (inSlices ? sliceRows * C : 0)
    if ranks > 1 {
      gradients += shardCounts.max() ?? 0
      b[.gatheredWeights] = (2 * layerCount + c.vocabSize * C + C) * dtype.byteSize
    }
    var state = 0
    var scratch = (K * n * C + n * (C + 2 * Q + 2 * KV + 3 * F) + (c.family.hasQueryKeyNorm ? n * KV : 0)) * f
    // The model widens f16 weights (any tensor), bf16 ones where its products over the batch's
    // rows are f32 (`Runtime.sixteenBitProducts`), and 16-bit norm scales, to f32 at use.
    let widensBF16 = Runtime.sixteenBitProducts == .f32 && K * n >= LlamaModel.widenedRows
    if dtype == .f16 || (dtype == .bf16 && widensBF16) {
      scratch += (counts.max() ?? 0) * f
    } else if dtype == .bf16 {
      scratch += C * f
    }
    switch optimizer {
    case .lomo:
      break
    case .adalomo:
      var widest = 1, longest = 1
      for shard in shards {
        let shape = shard.shape
        if shape.count >= 2 {
          let cols = shape.last!, rows = shape.reduce(1, *) / cols
          state += (rows + cols) * f
          widest = max(widest, cols)
          longest = max(longest, rows)
        } else {
          state += shape.reduce(1, *) * f
        }
      }
      scratch += max(widest, longest) * 8 + widest * f
    case .sgd, .adamw:
      gradients += heldCount
      if optimizer == .adamw { state += 2 * heldCount * f }
      if dtype != .f32 { scratch += (counts.max() ?? 0) * f }
    }
    b[.gradients] = gradients * f
    b[.optimizerState] = state
    b[.scratch] = scratch
    bytes = b
    // Cross-entropy keeps a logits chunk of at most its budget plus packed rows; GEMM packing
    // and attention scratch are of the order of one [N, C] activation.
    overheadBytes = Self.runtimeOverheadBytes + CrossEntropy.scratchBudgetBytes + 4 * n * C * f
      + (ranks > 1 ? (counts.max() ?? 0) * f : 0)
      // `LMHeadSliceScratch` over all K·N rows, ∂hidden of them and (K > 1) the rows themselves
      + (inSlices ? K * n * (10 * C + 4 * sliceRows + 8) + K * n * C * f * (K > 1 ? 2 : 1) : 0)
    if ranks == 1 && residentLayers == nil {
      let layers = zip(ids, counts).filter { $0.0.layer != nil }.map(\.1).reduce(0, +) * dtype.byteSize
      streamedAlternativeBytes = processBytes - layers + 2 * StreamedLayers.layerBytes(config: c, dtype: dtype)
    }
  }

  /// The breakdown as aligned text lines, largest category first.
  public var table: String {
    let rows = MemoryCategory.allCases
      .map { ($0, bytes[$0] ?? 0) }
      .filter { $0.0.isReported(peak: $0.1) }
      .sorted { $0.1 > $1.1 }
      .map { ($0.0.rawValue, Format.bytes($0.1)) }
      + [("kernels+runtime", Format.bytes(overheadBytes)), ("total", Format.bytes(processBytes))]
    return TextTable.keyValue(rows, separator: " ", keyWidth: 15)
  }
}

/// The machine's memory as Linux reports it in /proc/meminfo.
public enum MachineMemory {
  /// `MemAvailable` in bytes (memory a new process can take without swapping), or nil.
  public static var availableBytes: Int? {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
    return parse(meminfo: text, field: "MemAvailable")
  }

  /// The value of `field` ("MemAvailable: 123 kB") in bytes.
  public static func parse(meminfo: String, field: String) -> Int? {
    for line in meminfo.split(separator: "\n") where line.hasPrefix(field + ":") {
      let digits = line.dropFirst(field.count + 1).filter(\.isNumber)
      return Int(digits).map { $0 * 1024 }
    }
    return nil
  }
}

extension MemoryEstimate {
  /// Throws `TrainingError.insufficientMemory` (showing the estimate) when the run would need
  /// more than `availableBytes` (default: MemAvailable; no check where it is unknown), shared
  /// evenly by `ranksOnThisHost` ranks of one job (then the estimate is per rank and the
  /// refusal shows one rank's share).
  public func check(availableBytes: Int? = MachineMemory.availableBytes, ranksOnThisHost: Int = 1) throws {
    guard let available = availableBytes.map({ $0 / max(ranksOnThisHost, 1) }) else { return }
    if processBytes > available {
      throw TrainingError.insufficientMemory(estimate: self, availableBytes: available)
    }
  }
}

extension MemoryEstimate {
  /// For a run with gradient accumulation (K > 1 micro-batches of B), what the same K·B
  /// sequences per step would need the other two ways, and a line saying so: one batch of K·B
  /// with activation checkpointing (`lomo train` runs it with --batch-size K·B), and K
  /// micro-batches each keeping its activations (no recompute) that add into a full f32
  /// gradient buffer of every parameter before one update (not built into lomo). nil for K = 1.
  public static func accumulationComparison(config: LlamaConfig, options: TrainingOptions,
                                            maxSeqLen: Int) -> String? {
    let k = options.gradientAccumulationSteps
    guard k > 1 else { return nil }
    func estimate(batch: Int, microBatches: Int, checkpointing: Bool) -> MemoryEstimate {
      MemoryEstimate(config: config, dtype: options.dtype, optimizer: options.optimizer,
                     batchSize: batch, maxSeqLen: maxSeqLen, activationCheckpointing: checkpointing,
                     microBatches: microBatches)
    }
    let accumulated = estimate(batch: options.batchSize, microBatches: k,
                               checkpointing: options.activationCheckpointing).processBytes
    let whole = estimate(batch: options.sequencesPerStep, microBatches: 1, checkpointing: true).processBytes
    let parameterCount = ParameterID.all(for: config).reduce(0) { $0 + $1.shape(in: config).reduce(1, *) }
    let fullGradient = estimate(batch: options.batchSize, microBatches: 1,
                                checkpointing: options.activationCheckpointing).processBytes
      + (options.optimizer == .sgd || options.optimizer == .adamw ? 0 : parameterCount * 4)
    var line = "\(k) micro-batches of \(options.batchSize): estimated \(Format.bytes(accumulated))"
      + "; one batch of \(options.sequencesPerStep) with --activation-checkpointing: \(Format.bytes(whole))"
    if whole < accumulated {
      line += " (less: --batch-size \(options.sequencesPerStep) --gradient-accumulation-steps 1 --activation-checkpointing)"
    }
    line += "; a full f32 gradient buffer instead of layer-wise sums (not in lomo): \(Format.bytes(fullGradient))"
    if fullGradient < accumulated { line += " (less, and without recomputing layers)" }
    return line
  }
}
