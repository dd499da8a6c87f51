import LomoCore
import LomoKernels

/// A LLaMA decoder with hand-sequenced forward and backward passes over lomo's kernels.
///
/// Training is `forward(tokens:targets:...)` followed by one or more `backward(updater:...)`
/// passes over the saved activations (two for LOMO's measure-then-update gradient clipping).
/// Backward hands each parameter's gradient to a `ParameterUpdater` as soon as it is final,
/// so gradient memory is one buffer the size of the largest tensor (plus the [V, C] sum buffer
/// of a tied embedding); an untied LM head and embedding go to an updater that takes them in
/// row slices (`LlamaModel+VocabularySlices.swift`), so the buffer is the largest layer
/// tensor's plus one slice.
///
/// With K > 1 micro-batches (gradient accumulation) forward keeps every micro-batch's layer
/// inputs and backward goes layer by layer from the top: each micro-batch recomputes the layer
/// and adds its weight gradients into a `GradientSum` of one layer, which is handed over after
/// the last micro-batch; the LM head and embedding gradients sum in their [V, C] buffer. The
/// gradient is that of one [K·B, T] batch.
///
/// With parameters sharded over several ranks (`LlamaParameters(shardedOver:)`, ZeRO-3) the
/// whole weights come from `ShardedWeights` (gathered per layer) and every gradient goes through
/// `ShardedHandOff` (reduce-scattered, the shard to the updater); every rank must run the same
/// calls in the same order. With the layers streamed from disk (`LlamaParameters.streamed`)
/// each layer is brought into memory before it runs and the next one read meanwhile.
/// Not thread-safe: one model, one caller.
public final class LlamaModel {
  public let config: LlamaConfig
  public let parameters: LlamaParameters
  /// Keep only each layer's input in forward and recompute the layer in backward.
  public var activationCheckpointing: Bool
  let ledger: MemoryLedger
  let rope: RoPETable
  /// The sliding-window layers' RoPE (their own base), nil without a sliding window.
  let localRope: RoPETable?

  var state: ForwardState?
  /// Prompts appended to a KV cache in the pass of `state` (`loss(appendingFirst:)`).
  var promptState: ForwardState?
  var backwardScratch: BackwardScratch?
  let gemm = GemmScratch()
  let attention = AttentionScratch()
  let crossEntropy = CrossEntropyScratch()
  /// f32 copy of the f16 weight or norm scale currently in use.
  let widened = ScratchBuffer<Float>()
  /// ∂L/∂W of the parameter being finished. [largest non-tied tensor]
  var gradient: AlignedBuffer<Float>?
  /// Sum of LM-head and embedding gradients when tied. [V, C]
  var tiedGradient: AlignedBuffer<Float>?
  /// One slice of the untied [V, C] gradients when they are handed over in slices.
  /// [sliceRows · C]
  var vocabularySlice: AlignedBuffer<Float>?
  /// Rows per slice of the untied [V, C] gradients (a multiple of
  /// `RowSlicedGradient.rowUnit(columns: C)`); nil: `RowSlicedGradient.defaultSliceRows`.
  /// Tests set small slices to run the sliced hand-off on a small vocabulary.
  public var vocabularySliceRows: Int?
  /// Each row's log-sum-exp of the logits for the LM head's slices. [K·N]
  let headLogSumExp = ScratchBuffer<Float>()
  /// Every micro-batch's final-normed rows (K > 1) and ∂L/∂ of them, for the head's slices.
  /// [K·N, C] each
  let headHidden = ScratchBuffer<Float>()
  let headDHidden = ScratchBuffer<Float>()
  let headSlices = LMHeadSliceScratch()
  /// Per-layer gradient sums of accumulation (and the final norm's). [largest group]
  var gradientSum: GradientSum?
  /// The gathered whole layers when the parameters are shards over several ranks.
  let sharded: ShardedWeights?
  /// This rank's part of a reduce-scattered gradient (sharded only). [largest shard]
  var shardGradient: AlignedBuffer<Float>?

  public init(
    parameters: LlamaParameters, activationCheckpointing: Bool = false,
    ledger: MemoryLedger = .shared
  ) {
    self.config = parameters.config
    self.parameters = parameters
    self.activationCheckpointing = activationCheckpointing
    self.ledger = ledger
    rope = RoPETable(inverseFrequencies: config.ropeInverseFrequencies, maxPositions: config.maxContext)
    localRope = config.slidingWindow > 0
      ? RoPETable(inverseFrequencies: config.localRopeInverseFrequencies, maxPositions: config.maxContext) : nil
    sharded = parameters.isSharded ? ShardedWeights(shards: parameters, ledger: ledger) : nil
  }

  // MARK: Whole weights (gathered from the ranks' shards when sharded)

  /// Block `l`'s tensors, whole and in memory; `writing` when the caller's updater may change
  /// them.
  func layerWeights(_ l: Int, writing: Bool = false) -> LayerParameters {
    if let sharded { return sharded.layer(l) }
    parameters.streamed?.use(l, writing: writing)
    return parameters.layers[l]
  }

  /// Starts bringing block `l`'s weights in (gathered or read from disk) while the current one
  /// computes. No-op outside 0..<layers and for weights in memory.
  func prefetchLayer(_ l: Int, writing: Bool = false) {
    sharded?.prefetch(l)
    parameters.streamed?.prefetch(l, writing: writing)
  }

  /// The embedding table [V, C], whole.
  var embeddingTable: ParameterTensor { sharded?.vocabulary(.embedding) ?? parameters.embedding }

  /// The LM head [V, C] (the embedding when tied), whole.
  var headWeights: ParameterTensor { sharded?.vocabulary(.lmHead) ?? parameters.lmHead }

  /// The final norm's scale [C], whole.
  var finalNormWeights: ParameterTensor { sharded?.finalNorm() ?? parameters.finalNorm }

  /// Seconds spent waiting for weight gathers that had not completed when needed (0 unsharded).
  public var gatherWaitSeconds: Double { sharded?.waitedSeconds ?? 0 }

  /// Rows of one micro-batch (B·T).
  var rows: Int { state?.rows ?? 0 }

  // MARK: Weights as the kernels take them

  /// Rows of a step (K·N) from which products with bf16 weights widen them to f32 when 16-bit
  /// products are f32: below it a product is bound by reading the weights (generation's
  /// single rows), which bf16 halves, and widening would cost more than the f32 GEMM saves.
  public static let widenedRows = 64

  /// Whether the products of a step of `rows` activation rows (K·N: micro-batches multiply as
  /// their whole batch) round the activations to bf16: with 16-bit weights, when
  /// `Runtime.sixteenBitProducts` is bf16 or there are fewer than `widenedRows` rows.
  /// Otherwise they are f32 (bf16 weights widened).
  func roundsToBF16(rows: Int) -> Bool {
    parameters.dtype != .f32 && (Runtime.sixteenBitProducts == .bf16 || rows < Self.widenedRows)
  }

  /// Matrix `p` as a kernel in a step of `rows` activation rows takes it: f32 as stored; bf16
  /// as stored when `roundsToBF16(rows:)`, else widened to f32 into `widened`; f16 widened.
  /// `rows` nil: a gather (the embedding), bf16 as stored. The pointer is valid until the next
  /// `weight` or `normWeight` call.
  func weight(_ p: ParameterTensor, rows: Int? = nil) -> WeightPointer {
    if let w = p.gemmWeight {
      guard case .bf16 = w, let rows, !roundsToBF16(rows: rows) else { return w }
    }
    let out = widened.pointer(count: p.count)
    p.copyAsFloat(into: out)
    return .f32(out)
  }

  /// A vector parameter (norm scale, bias) as f32; a Gemma norm's scale as 1 + w.
  func normWeight(_ p: ParameterTensor) -> UnsafePointer<Float> {
    let offset = p.id.isNorm ? config.family.normWeightOffset : 0
    if case .f32(let b) = p.storage, offset == 0 { return UnsafePointer(b.pointer) }
    let out = widened.pointer(count: p.count)
    p.copyAsFloat(into: out)
    for i in 0..<p.count { out[i] += offset }
    return UnsafePointer(out)
  }

  /// Block `l`'s RoPE table, attention window (0: none) and score scale.
  func attentionGeometry(layer l: Int) -> (rope: RoPETable, window: Int, scale: Float) {
    let local = config.isSlidingWindowLayer(l)
    return (local ? localRope ?? rope : rope, local ? config.slidingWindow : 0, config.attentionScale)
  }

  /// Gemma's embedding scale sqrt(C), rounded to the weights' dtype as transformers does; 1
  /// for the other families.
  var embeddingScale: Float {
    guard config.family.scalesEmbedding else { return 1 }
    let scale = Float(config.hiddenSize).squareRoot()
    return parameters.dtype == .bf16 ? BFloat16(scale).float : parameters.dtype == .f16 ? Float(Float16(scale)) : scale
  }

  // MARK: Forward

  /// Runs the model over `tokens` [batch, T] and keeps what backward needs. `targets`
  /// [batch, T] holds each position's next-token label, negative where the position is not
  /// trained on. With `microBatches` K > 1 the batch is K micro-batches of batch/K consecutive
  /// sequences for gradient accumulation: only layer inputs are kept (as with checkpointing).
  ///
  /// - Precondition: batch·T > 0, K ≥ 1 divides batch, T ≤ maxContext, tokens in 0..<V,
  ///   targets < V.
  public func forward(tokens: [Int32], targets: [Int32], batch: Int, time: Int, microBatches: Int = 1) {
    precondition(microBatches >= 1 && batch % microBatches == 0,
                 "\(microBatches) micro-batches do not divide a batch of \(batch)")
    let s = prepareState(batch: batch / microBatches, time: time, microBatches: microBatches,
                         checkpointing: activationCheckpointing || microBatches > 1)
    load(tokens: tokens, targets: targets, into: s)
    runLayers(s)
  }

  /// Mean cross-entropy over the non-negative targets, keeping no activations (inference
  /// memory: two residual buffers and one layer's activations). Writes each
  /// row's negative log-likelihood into `nll` [B·T] when given (0 where the target is ignored).
  /// With `continuing`, row b continues the positions that sequence `sequences[b]` of the
  /// cache holds (a shared prompt: position t of the row is that sequence's count + t).
  /// `appendingFirst` prompts are appended to cache sequences 0..<prompts.count in the same
  /// pass (interleaved layer by layer, so the layers' weights are read once for both): the
  /// candidates of multiple-choice items and their items' prompts, each prompt run once.
  public func loss(
    tokens: [Int32], targets: [Int32], batch: Int, time: Int,
    nll: UnsafeMutablePointer<Float>? = nil, continuing: (cache: KVCache, sequences: [Int])? = nil,
    appendingFirst prompts: [[Int32]] = []
  ) -> CrossEntropyResult {
    precondition(continuing.map { $0.sequences.count == batch } ?? prompts.isEmpty,
                 "one cache sequence per row, and a cache for the prompts")
    precondition(prompts.count <= continuing?.cache.sequences ?? 0 || prompts.isEmpty,
                 "\(prompts.count) prompts for the cache's sequences")
    let s = prepareInferenceState(batch: batch, time: time)
    load(tokens: tokens, targets: targets, into: s)
    var first: (state: ForwardState, cache: CacheUse)?
    if let continuing, let longest = prompts.map(\.count).max(), longest > 0 {
      let p = preparePromptState(batch: prompts.count, time: longest)
      let padded = prompts.flatMap { $0 + [Int32](repeating: 0, count: longest - $0.count) }
      load(tokens: padded, targets: [Int32](repeating: -1, count: padded.count), into: p)
      first = (p, .appending(continuing.cache, lengths: prompts.map(\.count)))
    }
    runLayers(s, cache: continuing.map { CacheUse.continuing($0.cache, sequences: $0.sequences) }, after: first)
    return CrossEntropy.forward(
      nll: nll, hidden: s.finalNorm.pointer, weight: weight(headWeights, rows: rows),
      targets: s.targets.pointer, rows: rows, channels: config.hiddenSize,
      vocab: config.vocabSize, scratch: crossEntropy)
  }

  /// Logits [B·T, V] for every position (allocates B·T·V floats: for tests and short prompts).
  public func logits(tokens: [Int32], batch: Int, time: Int) -> [Float] {
    let s = prepareInferenceState(batch: batch, time: time)
    load(tokens: tokens, targets: [Int32](repeating: -1, count: tokens.count), into: s)
    runLayers(s)
    let n = rows, v = config.vocabSize
    return [Float](unsafeUninitializedCapacity: n * v) { out, initialized in
      MatMul.forward(out: out.baseAddress!, inp: s.finalNorm.pointer,
                     weight: weight(headWeights, rows: n), rows: n, inDim: config.hiddenSize,
                     outDim: v, scratch: gemm)
      initialized = n * v
    }
  }

  /// The forward state of a [B, T] inference pass: nothing kept for backward.
  func prepareInferenceState(batch: Int, time: Int) -> ForwardState {
    prepareState(batch: batch, time: time, checkpointing: true, keepsLayerInputs: false)
  }

  /// The forward state of the prompts an inference pass appends to a KV cache before its own
  /// rows continue them (`loss(appendingFirst:)`), beside `state`.
  func preparePromptState(batch: Int, time: Int) -> ForwardState {
    if let p = promptState, p.batch == batch, p.time == time { return p }
    promptState = nil
    let p = ForwardState(config: config, batch: batch, time: time, checkpointing: true, keepsLayerInputs: false,
                         bf16Residual: parameters.dtype == .bf16, ledger: ledger)
    promptState = p
    return p
  }

  func prepareState(batch: Int, time: Int, microBatches: Int = 1, checkpointing: Bool,
                    keepsLayerInputs: Bool = true) -> ForwardState {
    precondition(batch > 0 && time > 0, "empty batch \(batch)x\(time)")
    precondition(time <= config.maxContext,
                 "sequence length \(time) exceeds the model's context \(config.maxContext)")
    if let s = state, s.batch == batch, s.time == time, s.microBatches == microBatches,
       s.checkpointing == checkpointing, s.keepsLayerInputs == keepsLayerInputs {
      return s
    }
    state = nil
    backwardScratch = nil
    let s = ForwardState(config: config, batch: batch, time: time, microBatches: microBatches,
                         checkpointing: checkpointing, keepsLayerInputs: keepsLayerInputs,
                         bf16Residual: parameters.dtype == .bf16, ledger: ledger)
    state = s
    return s
  }

  func load(tokens: [Int32], targets: [Int32], into s: ForwardState) {
    let n = s.microBatches * s.rows
    precondition(tokens.count == n && targets.count == n,
                 "expected \(n) tokens and targets, got \(tokens.count) and \(targets.count)")
    for (i, t) in targets.enumerated() {
      precondition(t < config.vocabSize, "target \(t) at \(i) outside vocabulary")
    }
    _ = s.tokens.buffer.update(fromContentsOf: tokens)
    _ = s.targets.buffer.update(fromContentsOf: targets)
  }

  /// Embedding and every layer for every micro-batch (layer by layer, so each layer's weights
  /// serve all micro-batches in turn); the final norm too when there is one micro-batch
  /// (backward recomputes it per micro-batch otherwise). With `cache` (inference, one
  /// micro-batch) the rows continue cached positions or are appended to them. `after`: an
  /// inference pass that appends to the cache first at every layer, so that `s` (continuing
  /// it) sees its positions; both run layer by layer, each layer's weights serving both.
  func runLayers(_ s: ForwardState, cache: CacheUse? = nil, after first: (state: ForwardState, cache: CacheUse)? = nil) {
    let passes = (first.map { [($0.state, $0.cache as CacheUse?)] } ?? []) + [(s, cache)]
    for (pass, use) in passes {
      precondition(use.map { _ in pass.microBatches == 1 && !pass.keepsLayerInputs } ?? true,
                   "a KV cache serves inference passes")
    }
    let c = config
    let table = weight(embeddingTable)
    for (pass, _) in passes {
      for k in 0..<pass.microBatches {
        let rows = pass.residual.destination(0, microBatch: k)
        Embedding.forward(out: rows, tokens: pass.tokens.pointer + k * pass.rows,
                          table: table, rows: pass.rows, channels: c.hiddenSize, vocab: c.vocabSize)
        let scale = embeddingScale
        if scale != 1 { for i in 0..<pass.rows * c.hiddenSize { rows[i] *= scale } }
        pass.residual.commit(0, microBatch: k)
      }
    }
    for l in 0..<c.layers {
      let p = layerWeights(l)
      prefetchLayer(l + 1)
      for (pass, use) in passes {
        let stream = pass.residual
        for k in 0..<pass.microBatches {
          layerForward(p, input: stream.read(l, microBatch: k),
                       output: stream.destination(l + 1, microBatch: k),
                       into: pass.activations(ofLayer: l), state: pass, cache: use.map { ($0, l) })
          stream.commit(l + 1, microBatch: k)
        }
      }
    }
    if s.microBatches == 1 { finalNormForward(s, input: s.residual.read(c.layers, microBatch: 0)) }
  }

  /// The final norm of `input` (one micro-batch's last boundary) into `finalNorm`, `finalRstd`.
  func finalNormForward(_ s: ForwardState, input: UnsafePointer<Float>) {
    RMSNorm.forward(out: s.finalNorm.pointer, rstd: s.finalRstd.pointer, inp: input,
                    weight: normWeight(finalNormWeights), rows: s.rows,
                    channels: config.hiddenSize, eps: config.rmsEps)
  }

  /// One block with weights `p`: output = mid + down(swiglu(gate(norm2(mid)), up(norm2(mid)))),
  /// mid = input + o(attention(rope(q(norm1(input))), rope(k(…)), v(…))), where q(x) =
  /// x·Wqᵀ (+ bq with attention biases), then RMS-normed per head with per-head query/key norms
  /// (k and v alike; v is never normed).
  /// `output` nil recomputes the activations only (activation checkpointing). With `cache`
  /// (the block's index `layer`) the rows sit after the cached positions and attend to them
  /// too; their keys and values are stored in the cache when it is appended to.
  func layerForward(
    _ p: LayerParameters, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>?,
    into a: LayerActivations, state s: ForwardState, cache: (use: CacheUse, layer: Int)? = nil
  ) {
    // Per row of the batch with a cache: the cache sequence it continues.
    let sequences = cache.map { c in (0..<s.batch).map { c.use.sequence(ofRow: $0) } } ?? []
    let c = config, n = s.rows
    RMSNorm.forward(out: a.norm1.pointer, rstd: a.rstd1.pointer, inp: input,
                    weight: normWeight(p.attentionNorm), rows: n, channels: c.hiddenSize,
                    eps: c.rmsEps)
    // q and k as projected go where the per-head norms read them (`queryKeyNorm`), if any.
    let projected = a.queryKeyNorm.map { ($0.q, $0.k) } ?? (a.q, a.k)
    let projections: [(ParameterTensor, ParameterID.LayerParameter, AlignedBuffer<Float>, Int)] = [
      (p.query, .queryBias, projected.0, c.queryDim), (p.key, .keyBias, projected.1, c.kvDim),
      (p.value, .valueBias, a.v, c.kvDim),
    ]
    for (w, biasID, out, width) in projections {
      MatMul.forward(out: out.pointer, inp: a.norm1.pointer, weight: weight(w, rows: s.stepRows), rows: n,
                     inDim: c.hiddenSize, outDim: width, scratch: gemm)
      if let bias = p.ifPresent(biasID) {
        Bias.forward(out: out.pointer, bias: normWeight(bias), rows: n, columns: width)
      }
    }
    if let qk = a.queryKeyNorm {
      RMSNorm.forward(out: a.q.pointer, rstd: qk.rstdQ.pointer, inp: qk.q.pointer, weight: normWeight(p[.queryNorm]),
                      rows: n * c.heads, channels: c.headDim, eps: c.rmsEps)
      RMSNorm.forward(out: a.k.pointer, rstd: qk.rstdK.pointer, inp: qk.k.pointer, weight: normWeight(p[.keyNorm]),
                      rows: n * c.kvHeads, channels: c.headDim, eps: c.rmsEps)
    }
    sharded?.progress()
    let offsets = cache.map { c in sequences.map { c.use.cache.count(layer: c.layer, sequence: $0) } }
      ?? [Int](repeating: 0, count: s.batch)
    let geometry = attentionGeometry(layer: p.attentionNorm.id.layer!)
    RoPE.forward(a.q.pointer, table: geometry.rope, batch: s.batch, time: s.time, heads: c.heads,
                 headDim: c.headDim, sequenceOffsets: offsets)
    RoPE.forward(a.k.pointer, table: geometry.rope, batch: s.batch, time: s.time, heads: c.kvHeads,
                 headDim: c.headDim, sequenceOffsets: offsets)
    Attention.forward(out: a.attention.pointer, lse: a.lse.pointer, q: a.q.pointer,
                      k: a.k.pointer, v: a.v.pointer, batch: s.batch, time: s.time,
                      heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim,
                      prefixes: cache.map { c in sequences.map { c.use.cache.prefix(layer: c.layer, sequence: $0) } } ?? [],
                      scale: geometry.scale, window: geometry.window, scratch: attention)
    if let cache, case .appending(let kv, let lengths) = cache.use {
      for (b, length) in lengths.enumerated() {
        let row = b * s.time * c.kvDim
        kv.store(layer: cache.layer, sequence: b, keys: a.k.pointer + row, values: a.v.pointer + row, positions: length)
      }
    }
    sharded?.progress()
    if let post = a.postNorms {  // mid = input + norm(o(attention))
      MatMul.forward(out: post.attentionOutput.pointer, inp: a.attention.pointer, weight: weight(p.output, rows: s.stepRows),
                     rows: n, inDim: c.queryDim, outDim: c.hiddenSize, scratch: gemm)
      RMSNorm.forward(out: a.mid.pointer, rstd: post.attentionRstd.pointer, inp: post.attentionOutput.pointer,
                      weight: normWeight(p[.postAttentionNorm]), rows: n, channels: c.hiddenSize, eps: c.rmsEps)
      for i in 0..<n * c.hiddenSize { a.mid.pointer[i] += input[i] }
    } else {
      a.mid.pointer.update(from: input, count: n * c.hiddenSize)
      MatMul.forward(out: a.mid.pointer, inp: a.attention.pointer, weight: weight(p.output, rows: s.stepRows),
                     rows: n, inDim: c.queryDim, outDim: c.hiddenSize, accumulate: true,
                     scratch: gemm)
    }
    RMSNorm.forward(out: a.norm2.pointer, rstd: a.rstd2.pointer, inp: a.mid.pointer,
                    weight: normWeight(p.mlpNorm), rows: n, channels: c.hiddenSize, eps: c.rmsEps)
    MatMul.forward(out: a.gate.pointer, inp: a.norm2.pointer, weight: weight(p.gate, rows: s.stepRows), rows: n,
                   inDim: c.hiddenSize, outDim: c.intermediateSize, scratch: gemm)
    MatMul.forward(out: a.up.pointer, inp: a.norm2.pointer, weight: weight(p.up, rows: s.stepRows), rows: n,
                   inDim: c.hiddenSize, outDim: c.intermediateSize, scratch: gemm)
    if c.family.usesGeGLU {
      GeGLU.forward(out: a.swiglu.pointer, gate: a.gate.pointer, up: a.up.pointer, count: n * c.intermediateSize)
    } else {
      SwiGLU.forward(out: a.swiglu.pointer, gate: a.gate.pointer, up: a.up.pointer, count: n * c.intermediateSize)
    }
    sharded?.progress()
    if let post = a.postNorms {  // output = mid + norm(down(act)); backward needs both, also when recomputing
      MatMul.forward(out: post.mlpOutput.pointer, inp: a.swiglu.pointer, weight: weight(p.down, rows: s.stepRows), rows: n,
                     inDim: c.intermediateSize, outDim: c.hiddenSize, scratch: gemm)
      guard let output else {  // recomputing for backward: the norm's statistics, not its output
        RMSNorm.reciprocalRMS(rstd: post.mlpRstd.pointer, inp: post.mlpOutput.pointer, rows: n,
                              channels: c.hiddenSize, eps: c.rmsEps)
        return
      }
      RMSNorm.forward(out: output, rstd: post.mlpRstd.pointer, inp: post.mlpOutput.pointer,
                      weight: normWeight(p[.postMLPNorm]), rows: n, channels: c.hiddenSize, eps: c.rmsEps)
      for i in 0..<n * c.hiddenSize { output[i] += a.mid.pointer[i] }
      return
    }
    guard let output else { return }
    output.update(from: a.mid.pointer, count: n * c.hiddenSize)
    MatMul.forward(out: output, inp: a.swiglu.pointer, weight: weight(p.down, rows: s.stepRows), rows: n,
                   inDim: c.intermediateSize, outDim: c.hiddenSize, accumulate: true,
                   scratch: gemm)
  }
}
