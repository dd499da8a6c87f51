import LomoCore
import LomoKernels

extension LlamaModel {
  /// Backward over the activations of the last `forward`, handing every parameter's gradient
  /// to `updater` once, the moment it is final. Returns the loss of the batch (the LM head and
  /// cross-entropy run fused here, so forward never materialises logits).
  ///
  /// The gradient is of `gradScale · Σ nll` over every micro-batch (nil: 1/tokenCount of the
  /// whole batch, the mean). May be called again on the same activations (e.g. a measuring
  /// pass, then an updating pass) as long as the first pass changed no parameter.
  ///
  /// The loss is computed before any gradient is handed over: when it is not finite (inf/NaN),
  /// backward returns it at once and `updater` receives nothing.
  ///
  /// Sharded, the batch is this rank's slice of the ranks' global batch: the loss and the
  /// token count of the mean are the sums over the ranks (so every rank sees the same, and
  /// all stop together at a non-finite loss), and each whole gradient is reduce-scattered to
  /// the shards before `updater` receives this rank's part with its shard (`ShardedHandOff`).
  @discardableResult
  public func backward(updater handOff: ParameterUpdater, gradScale: Float? = nil) -> CrossEntropyResult {
    guard let s = state, s.keepsLayerInputs else {
      preconditionFailure("backward needs a preceding forward(tokens:targets:batch:time:)")
    }
    let inSlices = handsOverVocabularyInSlices(handOff)
    let buffers = prepareGradients(microBatches: s.microBatches, vocabularyInSlices: inSlices)
    let updater = sharded.map { ShardedHandOff(weights: $0, inner: handOff, part: shardGradient!) } ?? handOff
    let b = backwardScratch
      ?? BackwardScratch(config: config, rows: rows, microBatches: s.microBatches, ledger: ledger)
    backwardScratch = b
    // The mean's token count (summed over the ranks) only when the caller gave no scale.
    let scale = gradScale ?? {
      let tokenCount = parameters.communicator.sum(
        (0..<s.microBatches * rows).reduce(0) { $0 + (s.targets.pointer[$1] >= 0 ? 1 : 0) })
      return tokenCount > 0 ? 1 / Float(tokenCount) : 0
    }()

    let result: CrossEntropyResult
    if inSlices {
      let hidden = headHiddenRows(s)
      result = headLossWithNormalisers(s, hidden: hidden)
      // Nothing has been handed over yet: a non-finite loss leaves every parameter as it was.
      guard result.lossSum.isFinite else { return result }
      let dHidden = handOverHeadInSlices(s, hidden: hidden, slice: buffers.vocabulary, gradScale: scale, to: updater)
      finalNormBackward(s, dHidden: dHidden, scratch: b, sum: buffers.sum)
    } else {
      result = reducedOverRanks(headBackward(s, scratch: b, buffers: buffers, gradScale: scale))
      guard result.lossSum.isFinite else { return result }
      if !config.tiedEmbeddings { updater.update(headWeights, gradient: buffers.vocabulary.pointer) }
    }
    buffers.sum.handOver(to: updater)

    let writing = handOff.changesParameters
    prefetchLayer(config.layers - 1, writing: writing)
    for l in stride(from: config.layers - 1, through: 0, by: -1) {
      let p = layerWeights(l, writing: writing)
      prefetchLayer(l - 1, writing: writing)
      buffers.sum.begin()
      for k in 0..<s.microBatches {
        let input = s.residual.read(l, microBatch: k)
        if s.checkpointing {
          layerForward(p, input: input, output: nil, into: s.activations(ofLayer: l), state: s)
        }
        let sink: GradientSink = buffers.direct.map { .direct($0, updater) }
          ?? .sum(buffers.sum, first: k == 0)
        layerBackward(p, input: input, microBatch: k, state: s, scratch: b, sink: sink)
      }
      if buffers.direct == nil { buffers.sum.handOver(to: updater) }
    }

    // Gemma's scaled embedding: ∂L/∂(table row) = scale · ∂L/∂(residual row).
    let rowScale = embeddingScale
    if rowScale != 1 { for i in 0..<s.microBatches * rows * config.hiddenSize { b.dResidual.pointer[i] *= rowScale } }
    // Embedding: scatter-add every micro-batch's rows into the tied sum (which holds the
    // LM-head part) or the zeroed vocabulary buffer, or slice by slice.
    if inSlices {
      handOverEmbeddingInSlices(s, dOut: b.dResidual.pointer, slice: buffers.vocabulary, to: updater)
      return result
    }
    if tiedGradient == nil { buffers.vocabulary.pointer.update(repeating: 0, count: ParameterID.embedding.count(in: config)) }
    Embedding.backward(dTable: buffers.vocabulary.pointer, dOut: b.dResidual.pointer,
                       tokens: s.tokens.pointer, rows: s.microBatches * rows,
                       channels: config.hiddenSize)
    updater.update(parameters.embedding, gradient: buffers.vocabulary.pointer)
    return result
  }

  /// The LM head, loss and final norm of every micro-batch: the loss sum, the LM-head gradient
  /// summed into `buffers.vocabulary`, the final norm's into a new group of `buffers.sum`, and
  /// `dResidual(k)` = ∂L/∂(final norm input) of each micro-batch. Hands nothing over.
  func headBackward(_ s: ForwardState, scratch b: BackwardScratch, buffers: GradientBuffers,
                    gradScale: Float) -> CrossEntropyResult {
    let c = config, n = rows
    var result = CrossEntropyResult(lossSum: 0, tokenCount: 0)
    let head = headWeights
    buffers.sum.begin()
    for k in 0..<s.microBatches {
      let input = s.residual.read(c.layers, microBatch: k)
      // One micro-batch: forward left its final norm in place.
      if s.microBatches > 1 { finalNormForward(s, input: input) }
      b.dNorm.fill(0)
      let part = CrossEntropy.forwardBackward(
        dHidden: b.dNorm.pointer, dWeight: buffers.vocabulary.pointer, nll: nil,
        hidden: s.finalNorm.pointer, weight: weight(head, rows: s.stepRows),
        targets: s.targets.pointer + k * n, rows: n, channels: c.hiddenSize, vocab: c.vocabSize,
        gradScale: gradScale, accumulateWeight: k > 0, scratch: crossEntropy)
      result = CrossEntropyResult(lossSum: result.lossSum + part.lossSum,
                                  tokenCount: result.tokenCount + part.tokenCount)
      finalNormBackward(s, microBatch: k, scratch: b, sum: buffers.sum)
    }
    return result
  }

  /// Backward through the final norm of micro-batch `k` (whose normed output forward or
  /// `headBackward` left in `finalNorm`): `dResidual(k)` = ∂L/∂(norm input) from
  /// `dNorm` = ∂L/∂(norm output), the norm's gradient into (k = 0) or added to its slot of `sum`.
  func finalNormBackward(_ s: ForwardState, microBatch k: Int, scratch b: BackwardScratch, sum: GradientSum) {
    let n = rows, C = config.hiddenSize, norm = finalNormWeights
    let dInput = b.dResidual(k)
    dInput.update(repeating: 0, count: n * C)
    RMSNorm.backward(dInp: dInput, dWeight: sum.slot(for: norm), dOut: b.dNorm.pointer,
                     inp: s.residual.read(config.layers, microBatch: k), weight: normWeight(norm),
                     rstd: s.finalRstd.pointer, rows: n, channels: C, accumulateWeight: k > 0)
  }

  /// `part` with the loss and token count summed over the ranks (itself in a world of one).
  func reducedOverRanks(_ part: CrossEntropyResult) -> CrossEntropyResult {
    guard parameters.isSharded else { return part }
    var sums = [part.lossSum, Double(part.tokenCount)]
    parameters.communicator.allReduce(&sums, count: 2)
    return CrossEntropyResult(lossSum: sums[0], tokenCount: Int(sums[1]))
  }

  /// The gradient buffers of a backward pass over `microBatches` micro-batches.
  struct GradientBuffers {
    /// The LM head's, then the embedding's gradient [V, C]: the tied sum, or the shared
    /// buffer (untied: the largest tensor is at least [V, C]); when they are handed over in
    /// slices, one slice of them. [V, C] or [slice rows, C]
    let vocabulary: AlignedBuffer<Float>
    /// Where each layer tensor's gradient goes for an immediate hand-off; nil when
    /// accumulating (the layers sum in `sum`).
    let direct: AlignedBuffer<Float>?
    /// The final norm's gradient, and one layer's when accumulating.
    let sum: GradientSum
  }

  /// The gradient buffers, allocated on first use: the gradient sum (sized for the final norm,
  /// or for one layer when accumulating), the [V, C] tied sum when the LM head is tied, and a
  /// buffer sized to the largest tensor that is handed off directly, where one is needed (not
  /// when accumulating with a tied LM head: then every gradient has a sum of its own). With
  /// the [V, C] gradients `vocabularyInSlices`, that buffer is sized to the largest layer
  /// tensor and one slice buffer holds the [V, C] gradients' slices.
  func prepareGradients(microBatches: Int, vocabularyInSlices: Bool = false) -> GradientBuffers {
    let accumulating = microBatches > 1
    let layerSize = ParameterID.LayerParameter.present(in: config).reduce(0) { $0 + ParameterID.layer(0, $1).count(in: config) }
    let capacity = max(ParameterID.finalNorm.count(in: config), accumulating ? layerSize : 0)
    if (gradientSum?.capacity ?? 0) < capacity {
      gradientSum = nil
      gradientSum = GradientSum(capacity: capacity, ledger: ledger)
    }
    if config.tiedEmbeddings && tiedGradient == nil {
      tiedGradient = AlignedBuffer(count: ParameterID.embedding.count(in: config), category: .gradients,
                                   ledger: ledger)
    }
    if !(accumulating && config.tiedEmbeddings) {
      // Handed over from this buffer: the layers' tensors (not when accumulating: they sum in
      // `gradientSum`) and the untied [V, C] ones (not in slices).
      let direct = ParameterID.all(for: config).filter { id in
        id.layer != nil ? !accumulating : !vocabularyInSlices && !(config.tiedEmbeddings && id == .embedding)
      }
      let needed = direct.map { $0.count(in: config) }.max() ?? 0
      if (gradient?.count ?? -1) < needed {
        gradient = nil
        gradient = AlignedBuffer<Float>(count: needed, category: .gradients, ledger: ledger)
      }
    }
    if vocabularyInSlices && (vocabularySlice?.count ?? -1) < sliceRows * config.hiddenSize {
      vocabularySlice = nil
      vocabularySlice = AlignedBuffer(count: sliceRows * config.hiddenSize, category: .gradients, ledger: ledger)
    }
    if sharded != nil && shardGradient == nil {
      shardGradient = AlignedBuffer(count: parameters.largestCount, category: .gradients, ledger: ledger)
    }
    // One of them exists: tied has its sum, untied allocated `gradient` or the slice above.
    let vocabulary = vocabularyInSlices ? vocabularySlice! : tiedGradient ?? gradient!
    return GradientBuffers(vocabulary: vocabulary, direct: accumulating ? nil : gradient,
                           sum: gradientSum!)
  }

  /// Backward through block `p` for micro-batch `k`, whose layer input is `input` [N, C]: on
  /// entry `dResidual(k)` = ∂L/∂output, on exit ∂L/∂input. Each weight gradient goes to `sink`
  /// right after the weight's last read (with a direct sink, the updater may change the weight
  /// at once).
  func layerBackward(
    _ p: LayerParameters, input: UnsafePointer<Float>, microBatch k: Int, state s: ForwardState,
    scratch b: BackwardScratch, sink: GradientSink
  ) {
    let c = config, a = s.activations(ofLayer: p.attentionNorm.id.layer!), n = rows
    let dResidual = b.dResidual(k)
    let bf16 = roundsToBF16(rows: s.stepRows)
    func weightGradient(_ w: ParameterTensor, dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>) {
      MatMul.backwardWeight(dWeight: sink.destination(w), dOut: dOut, inp: inp, rows: n,
                            inDim: w.shape[1], outDim: w.shape[0], bf16Operands: bf16,
                            accumulate: sink.accumulates, scratch: gemm)
      sink.finished(w)
      sharded?.progress()
    }
    /// dInp [rows, channels] += ∂L/∂(norm input); the norm's gradient to the sink.
    func normGradient(_ w: ParameterTensor, dInp: UnsafeMutablePointer<Float>? = nil, dOut: UnsafePointer<Float>,
                      inp: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int? = nil, channels: Int? = nil) {
      RMSNorm.backward(dInp: dInp ?? dResidual, dWeight: sink.destination(w), dOut: dOut, inp: inp,
                       weight: normWeight(w), rstd: rstd, rows: rows ?? n, channels: channels ?? c.hiddenSize,
                       accumulateWeight: sink.accumulates)
      sink.finished(w)
    }
    /// ∂L/∂(a block output before its norm `w`) into dNorm, from ∂L/∂(normed) = dResidual.
    func postNormGradient(_ w: ParameterTensor, inp: AlignedBuffer<Float>, rstd: AlignedBuffer<Float>) -> UnsafePointer<Float> {
      b.dNorm.fill(0)
      normGradient(w, dInp: b.dNorm.pointer, dOut: dResidual, inp: inp.pointer, rstd: rstd.pointer)
      return UnsafePointer(b.dNorm.pointer)
    }

    // MLP: output = mid + down(act), or mid + norm(down(act)) with post norms; dNorm is free
    // until gate and up write it.
    let dMLPOutput = a.postNorms.map { postNormGradient(p[.postMLPNorm], inp: $0.mlpOutput, rstd: $0.mlpRstd) }
      ?? UnsafePointer(dResidual)
    MatMul.backwardInput(dInp: b.dSwiglu.pointer, dOut: dMLPOutput, weight: weight(p.down, rows: s.stepRows),
                         rows: n, inDim: c.intermediateSize, outDim: c.hiddenSize,
                         accumulate: false, scratch: gemm)
    weightGradient(p.down, dOut: dMLPOutput, inp: a.swiglu.pointer)
    b.dGate.fill(0)
    b.dUp.fill(0)
    if c.family.usesGeGLU {
      GeGLU.backward(dGate: b.dGate.pointer, dUp: b.dUp.pointer, dOut: b.dSwiglu.pointer,
                     gate: a.gate.pointer, up: a.up.pointer, count: n * c.intermediateSize)
    } else {
      SwiGLU.backward(dGate: b.dGate.pointer, dUp: b.dUp.pointer, dOut: b.dSwiglu.pointer,
                      gate: a.gate.pointer, up: a.up.pointer, count: n * c.intermediateSize)
    }
    MatMul.backwardInput(dInp: b.dNorm.pointer, dOut: b.dUp.pointer, weight: weight(p.up, rows: s.stepRows),
                         rows: n, inDim: c.hiddenSize, outDim: c.intermediateSize,
                         accumulate: false, scratch: gemm)
    weightGradient(p.up, dOut: b.dUp.pointer, inp: a.norm2.pointer)
    MatMul.backwardInput(dInp: b.dNorm.pointer, dOut: b.dGate.pointer, weight: weight(p.gate, rows: s.stepRows),
                         rows: n, inDim: c.hiddenSize, outDim: c.intermediateSize, scratch: gemm)
    weightGradient(p.gate, dOut: b.dGate.pointer, inp: a.norm2.pointer)
    normGradient(p.mlpNorm, dOut: b.dNorm.pointer, inp: a.mid.pointer, rstd: a.rstd2.pointer)

    // Attention: mid = input + o(attention), or input + norm(o(attention)) with post norms
    let dAttentionOutput = a.postNorms.map {
      postNormGradient(p[.postAttentionNorm], inp: $0.attentionOutput, rstd: $0.attentionRstd)
    } ?? UnsafePointer(dResidual)
    MatMul.backwardInput(dInp: b.dAttention.pointer, dOut: dAttentionOutput,
                         weight: weight(p.output, rows: s.stepRows), rows: n, inDim: c.queryDim,
                         outDim: c.hiddenSize, accumulate: false, scratch: gemm)
    weightGradient(p.output, dOut: dAttentionOutput, inp: a.attention.pointer)
    let geometry = attentionGeometry(layer: p.attentionNorm.id.layer!)
    b.dQ.fill(0)
    b.dK.fill(0)
    b.dV.fill(0)
    Attention.backward(dQ: b.dQ.pointer, dK: b.dK.pointer, dV: b.dV.pointer,
                       dOut: b.dAttention.pointer, q: a.q.pointer, k: a.k.pointer,
                       v: a.v.pointer, out: a.attention.pointer, lse: a.lse.pointer,
                       batch: s.batch, time: s.time, heads: c.heads, kvHeads: c.kvHeads,
                       headDim: c.headDim, scale: geometry.scale, window: geometry.window, scratch: attention)
    sharded?.progress()
    RoPE.backward(b.dQ.pointer, table: geometry.rope, batch: s.batch, time: s.time, heads: c.heads,
                  headDim: c.headDim)
    RoPE.backward(b.dK.pointer, table: geometry.rope, batch: s.batch, time: s.time, heads: c.kvHeads,
                  headDim: c.headDim)
    // ∂L/∂ of q and k as projected: through the per-head norms when there are any.
    var dProjected = (b.dQ, b.dK)
    if let qk = a.queryKeyNorm, let dKey = b.dKeyProjection {
      dProjected = (b.dAttention, dKey)  // dAttention is free once attention's backward ran
      let heads: [(ParameterID.LayerParameter, AlignedBuffer<Float>, AlignedBuffer<Float>, AlignedBuffer<Float>, AlignedBuffer<Float>, Int)] = [
        (.queryNorm, b.dQ, b.dAttention, qk.q, qk.rstdQ, c.heads), (.keyNorm, b.dK, dKey, qk.k, qk.rstdK, c.kvHeads),
      ]
      for (id, dOut, dInp, inp, rstd, count) in heads {
        dInp.pointer.update(repeating: 0, count: n * count * c.headDim)
        normGradient(p[id], dInp: dInp.pointer, dOut: dOut.pointer, inp: inp.pointer, rstd: rstd.pointer,
                     rows: n * count, channels: c.headDim)
      }
    }
    let projections: [(ParameterTensor, ParameterID.LayerParameter, AlignedBuffer<Float>, Int)] = [
      (p.query, .queryBias, dProjected.0, c.queryDim), (p.key, .keyBias, dProjected.1, c.kvDim),
      (p.value, .valueBias, b.dV, c.kvDim),
    ]
    for (i, (w, biasID, dOut, width)) in projections.enumerated() {
      if let bias = p.ifPresent(biasID) {
        Bias.backward(dBias: sink.destination(bias), dOut: dOut.pointer, rows: n, columns: width,
                      accumulate: sink.accumulates)
        sink.finished(bias)
      }
      MatMul.backwardInput(dInp: b.dNorm.pointer, dOut: dOut.pointer, weight: weight(w, rows: s.stepRows), rows: n,
                           inDim: c.hiddenSize, outDim: width, accumulate: i > 0, scratch: gemm)
      weightGradient(w, dOut: dOut.pointer, inp: a.norm1.pointer)
    }
    normGradient(p.attentionNorm, dOut: b.dNorm.pointer, inp: input, rstd: a.rstd1.pointer)
  }
}
