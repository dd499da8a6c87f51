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
  @discardableResult
  public func backward(updater: ParameterUpdater, gradScale: Float? = nil) -> CrossEntropyResult {
    guard let s = state, s.keepsLayerInputs else {
      preconditionFailure("backward needs a preceding forward(tokens:targets:batch:time:)")
    }
    let c = config, n = rows, microBatches = s.microBatches
    let accumulating = microBatches > 1
    let (g, sum) = prepareGradients(microBatches: microBatches)
    let b = backwardScratch ?? BackwardScratch(config: c, rows: n, microBatches: microBatches, ledger: ledger)
    backwardScratch = b
    let tokenCount = (0..<microBatches * n).reduce(0) { $0 + (s.targets.pointer[$1] >= 0 ? 1 : 0) }
    let scale = gradScale ?? (tokenCount > 0 ? 1 / Float(tokenCount) : 0)

    // LM head + loss of every micro-batch, then the final norm's backward: dResidual(k) =
    // ∂L/∂(final norm input); the LM-head gradient sums in its own buffer, the final norm's in
    // the gradient sum.
    let lmHeadGradient = tiedGradient ?? g!
    var result = CrossEntropyResult(lossSum: 0, tokenCount: 0)
    sum.begin()
    for k in 0..<microBatches {
      let input = s.residual.read(c.layers, microBatch: k)
      if accumulating { finalNormForward(s, input: input) }
      b.dNorm.fill(0)
      let part = CrossEntropy.forwardBackward(
        dHidden: b.dNorm.pointer, dWeight: lmHeadGradient.pointer, nll: nil,
        hidden: s.finalNorm.pointer, weight: weight(parameters.lmHead),
        targets: s.targets.pointer + k * n, rows: n, channels: c.hiddenSize, vocab: c.vocabSize,
        gradScale: scale, accumulateWeight: k > 0, scratch: crossEntropy)
      result = CrossEntropyResult(lossSum: result.lossSum + part.lossSum,
                                  tokenCount: result.tokenCount + part.tokenCount)
      let dInput = b.dResidual(k)
      dInput.update(repeating: 0, count: n * c.hiddenSize)
      RMSNorm.backward(dInp: dInput, dWeight: sum.slot(for: parameters.finalNorm),
                       dOut: b.dNorm.pointer, inp: input,
                       weight: normWeight(parameters.finalNorm), rstd: s.finalRstd.pointer,
                       rows: n, channels: c.hiddenSize, accumulateWeight: k > 0)
    }
    // Nothing has been handed over yet: a non-finite loss leaves every parameter as it was.
    guard result.lossSum.isFinite else { return result }
    if let head = parameters.untiedLMHead { updater.update(head, gradient: g!.pointer) }
    sum.handOver(to: updater)

    for l in stride(from: c.layers - 1, through: 0, by: -1) {
      sum.begin()
      for k in 0..<microBatches {
        let input = s.residual.read(l, microBatch: k)
        if s.checkpointing {
          layerForward(l, input: input, output: nil, into: s.activations(ofLayer: l), state: s)
        }
        let sink: GradientSink = accumulating ? .sum(sum, first: k == 0) : .direct(g!, updater)
        layerBackward(l, input: input, microBatch: k, state: s, scratch: b, sink: sink)
      }
      if accumulating { sum.handOver(to: updater) }
    }

    // Embedding: scatter-add every micro-batch's rows into the tied sum (which holds the
    // LM-head part) or a zeroed buffer.
    let embeddingGradient = tiedGradient ?? g!
    if tiedGradient == nil { g!.pointer.update(repeating: 0, count: parameters.embedding.count) }
    Embedding.backward(dTable: embeddingGradient.pointer, dOut: b.dResidual.pointer,
                       tokens: s.tokens.pointer, rows: microBatches * n, channels: c.hiddenSize)
    updater.update(parameters.embedding, gradient: embeddingGradient.pointer)
    return result
  }

  /// The gradient buffers, allocated on first use: the gradient sum (sized for the final norm,
  /// or for one layer when accumulating), the [V, C] tied sum when the LM head is tied, and a
  /// buffer sized to the largest tensor that is handed off directly, where one is needed (not
  /// when accumulating with a tied LM head: then every gradient has a sum of its own).
  func prepareGradients(microBatches: Int) -> (direct: AlignedBuffer<Float>?, sum: GradientSum) {
    let accumulating = microBatches > 1
    let groupSize = accumulating
      ? parameters.layers.first.map { l in ParameterID.LayerParameter.allCases.reduce(0) { $0 + l[$1].count } } ?? 0
      : 0
    let capacity = max(parameters.finalNorm.count, groupSize)
    if (gradientSum?.capacity ?? 0) < capacity {
      gradientSum = nil
      gradientSum = GradientSum(capacity: capacity, ledger: ledger)
    }
    if config.tiedEmbeddings && tiedGradient == nil {
      tiedGradient = AlignedBuffer(count: parameters.embedding.count, category: .gradients,
                                   ledger: ledger)
    }
    if gradient == nil && !(accumulating && config.tiedEmbeddings) {
      let direct = parameters.all.filter { !(config.tiedEmbeddings && $0.id == .embedding) }
      gradient = AlignedBuffer<Float>(count: direct.map(\.count).max() ?? 0, category: .gradients,
                                      ledger: ledger)
    }
    return (gradient, gradientSum!)
  }

  /// Backward through block `l` for micro-batch `k`, whose layer input is `input` [N, C]: on
  /// entry `dResidual(k)` = ∂L/∂output, on exit ∂L/∂input. Each weight gradient goes to `sink`
  /// right after the weight's last read (with a direct sink, the updater may change the weight
  /// at once).
  func layerBackward(
    _ l: Int, input: UnsafePointer<Float>, microBatch k: Int, state s: ForwardState,
    scratch b: BackwardScratch, sink: GradientSink
  ) {
    let c = config, p = parameters.layers[l], a = s.activations(ofLayer: l), n = rows
    let dResidual = b.dResidual(k)
    let bf16 = parameters.dtype != .f32
    func weightGradient(_ w: ParameterTensor, dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>) {
      MatMul.backwardWeight(dWeight: sink.destination(w), dOut: dOut, inp: inp, rows: n,
                            inDim: w.shape[1], outDim: w.shape[0], bf16Operands: bf16,
                            accumulate: sink.accumulates, scratch: gemm)
      sink.finished(w)
    }
    func normGradient(_ w: ParameterTensor, dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>,
                      rstd: UnsafePointer<Float>) {
      RMSNorm.backward(dInp: dResidual, dWeight: sink.destination(w), dOut: dOut, inp: inp,
                       weight: normWeight(w), rstd: rstd, rows: n, channels: c.hiddenSize,
                       accumulateWeight: sink.accumulates)
      sink.finished(w)
    }

    // MLP: output = mid + down(swiglu)
    MatMul.backwardInput(dInp: b.dSwiglu.pointer, dOut: dResidual, weight: weight(p.down),
                         rows: n, inDim: c.intermediateSize, outDim: c.hiddenSize,
                         accumulate: false, scratch: gemm)
    weightGradient(p.down, dOut: dResidual, inp: a.swiglu.pointer)
    b.dGate.fill(0)
    b.dUp.fill(0)
    SwiGLU.backward(dGate: b.dGate.pointer, dUp: b.dUp.pointer, dOut: b.dSwiglu.pointer,
                    gate: a.gate.pointer, up: a.up.pointer, count: n * c.intermediateSize)
    MatMul.backwardInput(dInp: b.dNorm.pointer, dOut: b.dUp.pointer, weight: weight(p.up),
                         rows: n, inDim: c.hiddenSize, outDim: c.intermediateSize,
                         accumulate: false, scratch: gemm)
    weightGradient(p.up, dOut: b.dUp.pointer, inp: a.norm2.pointer)
    MatMul.backwardInput(dInp: b.dNorm.pointer, dOut: b.dGate.pointer, weight: weight(p.gate),
                         rows: n, inDim: c.hiddenSize, outDim: c.intermediateSize, scratch: gemm)
    weightGradient(p.gate, dOut: b.dGate.pointer, inp: a.norm2.pointer)
    normGradient(p.mlpNorm, dOut: b.dNorm.pointer, inp: a.mid.pointer, rstd: a.rstd2.pointer)

    // Attention: mid = input + o(attention)
    MatMul.backwardInput(dInp: b.dAttention.pointer, dOut: dResidual,
                         weight: weight(p.output), rows: n, inDim: c.queryDim,
                         outDim: c.hiddenSize, accumulate: false, scratch: gemm)
    weightGradient(p.output, dOut: dResidual, inp: a.attention.pointer)
    b.dQ.fill(0)
    b.dK.fill(0)
    b.dV.fill(0)
    Attention.backward(dQ: b.dQ.pointer, dK: b.dK.pointer, dV: b.dV.pointer,
                       dOut: b.dAttention.pointer, q: a.q.pointer, k: a.k.pointer,
                       v: a.v.pointer, out: a.attention.pointer, lse: a.lse.pointer,
                       batch: s.batch, time: s.time, heads: c.heads, kvHeads: c.kvHeads,
                       headDim: c.headDim, scratch: attention)
    RoPE.backward(b.dQ.pointer, table: rope, batch: s.batch, time: s.time, heads: c.heads,
                  headDim: c.headDim)
    RoPE.backward(b.dK.pointer, table: rope, batch: s.batch, time: s.time, heads: c.kvHeads,
                  headDim: c.headDim)
    let projections: [(ParameterTensor, AlignedBuffer<Float>, Int)] = [
      (p.query, b.dQ, c.queryDim), (p.key, b.dK, c.kvDim), (p.value, b.dV, c.kvDim),
    ]
    for (i, (w, dOut, width)) in projections.enumerated() {
      MatMul.backwardInput(dInp: b.dNorm.pointer, dOut: dOut.pointer, weight: weight(w), rows: n,
                           inDim: c.hiddenSize, outDim: width, accumulate: i > 0, scratch: gemm)
      weightGradient(w, dOut: dOut.pointer, inp: a.norm1.pointer)
    }
    normGradient(p.attentionNorm, dOut: b.dNorm.pointer, inp: input, rstd: a.rstd1.pointer)
  }
}
