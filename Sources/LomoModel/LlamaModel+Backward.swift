import LomoCore
import LomoKernels

extension LlamaModel {
  /// Backward over the activations of the last `forward`, handing every parameter's gradient
  /// to `updater` once, the moment it is final. Returns the loss of the batch (the LM head and
  /// cross-entropy run fused here, so forward never materialises logits).
  ///
  /// The gradient is of `gradScale · Σ nll` (nil: 1/tokenCount, the mean). May be called
  /// again on the same activations (e.g. a measuring pass, then an updating pass) as long as
  /// the first pass changed no parameter.
  ///
  /// The loss is computed before any gradient is handed over: when it is not finite (inf/NaN),
  /// backward returns it at once and `updater` receives nothing.
  @discardableResult
  public func backward(updater: ParameterUpdater, gradScale: Float? = nil) -> CrossEntropyResult {
    guard let s = state, s.keepsLayerInputs else {
      preconditionFailure("backward needs a preceding forward(tokens:targets:batch:time:)")
    }
    let c = config, n = rows
    let g = prepareGradients()
    let b = backwardScratch ?? BackwardScratch(config: c, rows: n, ledger: ledger)
    backwardScratch = b

    // LM head + loss: dNorm = ∂L/∂finalNorm, LM-head gradient into its own buffer.
    let lmHeadGradient = tiedGradient ?? g
    b.dNorm.fill(0)
    let result = CrossEntropy.forwardBackward(
      dHidden: b.dNorm.pointer, dWeight: lmHeadGradient.pointer, nll: nil,
      hidden: s.finalNorm.pointer, weight: weight(parameters.lmHead), targets: s.targets.pointer,
      rows: n, channels: c.hiddenSize, vocab: c.vocabSize, gradScale: gradScale,
      scratch: crossEntropy)
    // Nothing has been handed over yet: a non-finite loss leaves every parameter as it was.
    guard result.lossSum.isFinite else { return result }
    if let head = parameters.untiedLMHead { updater.update(head, gradient: g.pointer) }

    b.dResidual.fill(0)
    RMSNorm.backward(dInp: b.dResidual.pointer, dWeight: g.pointer, dOut: b.dNorm.pointer,
                     inp: s.residual[c.layers].pointer, weight: normWeight(parameters.finalNorm),
                     rstd: s.finalRstd.pointer, rows: n, channels: c.hiddenSize)
    updater.update(parameters.finalNorm, gradient: g.pointer)

    for l in stride(from: c.layers - 1, through: 0, by: -1) {
      if s.checkpointing {
        layerForward(l, input: s.residual[l].pointer, output: nil, into: s.activations(ofLayer: l),
                     state: s)
      }
      layerBackward(l, state: s, scratch: b, gradient: g, updater: updater)
    }

    // Embedding: scatter-add into the tied sum (which holds the LM-head part) or a zeroed buffer.
    let embeddingGradient = tiedGradient ?? g
    if tiedGradient == nil { g.pointer.update(repeating: 0, count: parameters.embedding.count) }
    Embedding.backward(dTable: embeddingGradient.pointer, dOut: b.dResidual.pointer,
                       tokens: s.tokens.pointer, rows: n, channels: c.hiddenSize)
    updater.update(parameters.embedding, gradient: embeddingGradient.pointer)
    return result
  }

  /// The gradient buffers, allocated on first use: one sized to the largest tensor that is
  /// handed off directly, and the [V, C] tied sum when the LM head is tied.
  func prepareGradients() -> AlignedBuffer<Float> {
    if let g = gradient { return g }
    let direct = parameters.all.filter { !(config.tiedEmbeddings && $0.id == .embedding) }
    let g = AlignedBuffer<Float>(count: direct.map(\.count).max() ?? 0, category: .gradients,
                                 ledger: ledger)
    gradient = g
    if config.tiedEmbeddings {
      tiedGradient = AlignedBuffer(count: parameters.embedding.count, category: .gradients,
                                   ledger: ledger)
    }
    return g
  }

  /// Backward through block `l`: on entry `dResidual` = ∂L/∂output, on exit ∂L/∂input.
  /// Each weight is handed to `updater` right after its last read.
  func layerBackward(
    _ l: Int, state s: ForwardState, scratch b: BackwardScratch, gradient g: AlignedBuffer<Float>,
    updater: ParameterUpdater
  ) {
    let c = config, p = parameters.layers[l], a = s.activations(ofLayer: l), n = rows
    let input = s.residual[l].pointer
    let bf16 = parameters.dtype != .f32
    func weightGradient(_ w: ParameterTensor, dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>) {
      MatMul.backwardWeight(dWeight: g.pointer, dOut: dOut, inp: inp, rows: n,
                            inDim: w.shape[1], outDim: w.shape[0], bf16Operands: bf16,
                            scratch: gemm)
      updater.update(w, gradient: g.pointer)
    }

    // MLP: output = mid + down(swiglu)
    MatMul.backwardInput(dInp: b.dSwiglu.pointer, dOut: b.dResidual.pointer, weight: weight(p.down),
                         rows: n, inDim: c.intermediateSize, outDim: c.hiddenSize,
                         accumulate: false, scratch: gemm)
    weightGradient(p.down, dOut: b.dResidual.pointer, inp: a.swiglu.pointer)
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
    RMSNorm.backward(dInp: b.dResidual.pointer, dWeight: g.pointer, dOut: b.dNorm.pointer,
                     inp: a.mid.pointer, weight: normWeight(p.mlpNorm), rstd: a.rstd2.pointer,
                     rows: n, channels: c.hiddenSize)
    updater.update(p.mlpNorm, gradient: g.pointer)

    // Attention: mid = input + o(attention)
    MatMul.backwardInput(dInp: b.dAttention.pointer, dOut: b.dResidual.pointer,
                         weight: weight(p.output), rows: n, inDim: c.queryDim,
                         outDim: c.hiddenSize, accumulate: false, scratch: gemm)
    weightGradient(p.output, dOut: b.dResidual.pointer, inp: a.attention.pointer)
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
    RMSNorm.backward(dInp: b.dResidual.pointer, dWeight: g.pointer, dOut: b.dNorm.pointer,
                     inp: input, weight: normWeight(p.attentionNorm), rstd: a.rstd1.pointer,
                     rows: n, channels: c.hiddenSize)
    updater.update(p.attentionNorm, gradient: g.pointer)
  }
}
