import LomoCore

/// What one transformer block saves in forward for its backward, N = B·T rows.
final class LayerActivations {
  let norm1: AlignedBuffer<Float>  // [N, C]    attention-norm output
  let rstd1: AlignedBuffer<Float>  // [N]
  let q: AlignedBuffer<Float>  // [N, H·D]   after RoPE
  let k: AlignedBuffer<Float>  // [N, KVH·D] after RoPE
  let v: AlignedBuffer<Float>  // [N, KVH·D]
  let attention: AlignedBuffer<Float>  // [N, H·D] attention output (before o-proj)
  let lse: AlignedBuffer<Float>  // [B, H, T]  softmax log-sum-exp per query row
  let mid: AlignedBuffer<Float>  // [N, C]    residual after attention
  let norm2: AlignedBuffer<Float>  // [N, C]    mlp-norm output
  let rstd2: AlignedBuffer<Float>  // [N]
  let gate: AlignedBuffer<Float>  // [N, F]
  let up: AlignedBuffer<Float>  // [N, F]
  let swiglu: AlignedBuffer<Float>  // [N, F]    silu(gate)·up
  /// With per-head query/key norms (`ModelFamily.hasQueryKeyNorm`): the projections before
  /// the norm and the norm's reciprocal RMS per head row; nil otherwise.
  let queryKeyNorm: QueryKeyNormActivations?
  /// With norms of the attention and MLP outputs (`ModelFamily.hasPostNorms`): those outputs
  /// and their norms' 1/RMS; nil otherwise.
  let postNorms: PostNormActivations?

  init(config c: LlamaConfig, batch: Int, time: Int, ledger: MemoryLedger) {
    let n = batch * time
    func make(_ count: Int) -> AlignedBuffer<Float> {
      AlignedBuffer(count: count, category: .activations, ledger: ledger)
    }
    norm1 = make(n * c.hiddenSize)
    rstd1 = make(n)
    q = make(n * c.queryDim)
    k = make(n * c.kvDim)
    v = make(n * c.kvDim)
    attention = make(n * c.queryDim)
    lse = make(n * c.heads)
    mid = make(n * c.hiddenSize)
    norm2 = make(n * c.hiddenSize)
    rstd2 = make(n)
    gate = make(n * c.intermediateSize)
    up = make(n * c.intermediateSize)
    swiglu = make(n * c.intermediateSize)
    queryKeyNorm = c.family.hasQueryKeyNorm ? QueryKeyNormActivations(config: c, rows: n, ledger: ledger) : nil
    postNorms = c.family.hasPostNorms ? PostNormActivations(config: c, rows: n, ledger: ledger) : nil
  }
}

/// What Gemma's norms of the attention and MLP outputs save: o(attention) and down(act) before
/// their norms, and each row's 1/RMS. N = B·T rows.
final class PostNormActivations {
  let attentionOutput: AlignedBuffer<Float>  // [N, C]
  let attentionRstd: AlignedBuffer<Float>  // [N]
  let mlpOutput: AlignedBuffer<Float>  // [N, C]
  let mlpRstd: AlignedBuffer<Float>  // [N]

  init(config c: LlamaConfig, rows n: Int, ledger: MemoryLedger) {
    func make(_ count: Int) -> AlignedBuffer<Float> {
      AlignedBuffer(count: count, category: .activations, ledger: ledger)
    }
    attentionOutput = make(n * c.hiddenSize)
    attentionRstd = make(n)
    mlpOutput = make(n * c.hiddenSize)
    mlpRstd = make(n)
  }
}

/// What the per-head query and key norms save: q and k as projected (biases added), before the
/// norm, and 1/RMS of every head's row. N = B·T rows.
final class QueryKeyNormActivations {
  let q: AlignedBuffer<Float>  // [N, H·D]
  let k: AlignedBuffer<Float>  // [N, KVH·D]
  let rstdQ: AlignedBuffer<Float>  // [N·H]
  let rstdK: AlignedBuffer<Float>  // [N·KVH]

  init(config c: LlamaConfig, rows n: Int, ledger: MemoryLedger) {
    func make(_ count: Int) -> AlignedBuffer<Float> {
      AlignedBuffer(count: count, category: .activations, ledger: ledger)
    }
    q = make(n * c.queryDim)
    k = make(n * c.kvDim)
    rstdQ = make(n * c.heads)
    rstdK = make(n * c.kvHeads)
  }
}

/// All forward state of one step's shape: K micro-batches of [B, T] (K = 1 without gradient
/// accumulation), N = B·T rows each. The residual stream at every layer boundary is kept for
/// training, for all K micro-batches (micro-batch k is rows k·N..<(k+1)·N of one [K·B, T]
/// batch); with activation checkpointing, or K > 1, that is all that is kept. Inference keeps
/// two boundaries and alternates. The per-layer activations are one set per layer, or a single
/// set of N rows that backward refills by recomputing each layer of each micro-batch (and that
/// inference overwrites).
final class ForwardState {
  /// Sequences per micro-batch (B).
  let batch: Int
  let time: Int
  /// Micro-batches of the step (K).
  let microBatches: Int
  /// Layers are recomputed in backward from their kept inputs.
  let checkpointing: Bool
  /// Every layer's input is kept, so backward can run. False: inference only.
  let keepsLayerInputs: Bool
  /// Every layer boundary with `keepsLayerInputs`, else two alternating ones.
  let residual: ResidualStream
  let layers: [LayerActivations]
  let finalNorm: AlignedBuffer<Float>  // [N, C]  of one micro-batch
  let finalRstd: AlignedBuffer<Float>  // [N]
  let tokens: AlignedBuffer<Int32>  // [K·N]
  let targets: AlignedBuffer<Int32>  // [K·N]

  /// `bf16Residual`: store the residual stream in bf16 (for bf16 weights).
  ///
  /// - Precondition: `microBatches` is 1, or `checkpointing` is set (accumulation recomputes).
  init(config c: LlamaConfig, batch: Int, time: Int, microBatches: Int = 1, checkpointing: Bool,
       keepsLayerInputs: Bool = true, bf16Residual: Bool, ledger: MemoryLedger) {
    precondition(microBatches == 1 || (checkpointing && keepsLayerInputs),
                 "micro-batches recompute their layers in backward")
    self.batch = batch
    self.time = time
    self.microBatches = microBatches
    self.checkpointing = checkpointing
    self.keepsLayerInputs = keepsLayerInputs
    let n = batch * time
    residual = ResidualStream(slots: keepsLayerInputs ? c.layers + 1 : 2, microBatches: microBatches,
                              rows: n, channels: c.hiddenSize, bf16: bf16Residual, ledger: ledger)
    layers = (0..<(checkpointing ? 1 : c.layers)).map { _ in
      LayerActivations(config: c, batch: batch, time: time, ledger: ledger)
    }
    finalNorm = AlignedBuffer(count: n * c.hiddenSize, category: .activations, ledger: ledger)
    finalRstd = AlignedBuffer(count: n, category: .activations, ledger: ledger)
    tokens = AlignedBuffer(count: microBatches * n, category: .activations, ledger: ledger)
    targets = AlignedBuffer(count: microBatches * n, category: .activations, ledger: ledger)
  }

  /// Rows of one micro-batch (N = B·T).
  var rows: Int { batch * time }

  /// Rows of the whole step (K·N): what decides whether 16-bit weights are widened
  /// (`LlamaModel.roundsToBF16(rows:)`), so that K micro-batches multiply as one batch does.
  var stepRows: Int { microBatches * rows }

  func activations(ofLayer l: Int) -> LayerActivations { layers[checkpointing ? 0 : l] }
}

/// Activation gradients of one block, reused by every layer in backward. [N, ·] each, except
/// the residual gradient, which every micro-batch carries down the layers.
final class BackwardScratch {
  let dResidual: AlignedBuffer<Float>  // [K·N, C]  ∂L/∂residual, carried down the layers
  let dNorm: AlignedBuffer<Float>  // [N, C]
  let dAttention: AlignedBuffer<Float>  // [N, H·D]
  let dQ: AlignedBuffer<Float>  // [N, H·D]
  let dK: AlignedBuffer<Float>  // [N, KVH·D]
  let dV: AlignedBuffer<Float>  // [N, KVH·D]
  let dSwiglu: AlignedBuffer<Float>  // [N, F]
  let dGate: AlignedBuffer<Float>  // [N, F]
  let dUp: AlignedBuffer<Float>  // [N, F]
  /// ∂L/∂k as projected, before the per-head key norm; nil without query/key norms (∂L/∂q
  /// before its norm goes to `dAttention`, free by then). [N, KVH·D]
  let dKeyProjection: AlignedBuffer<Float>?

  let rows: Int
  let channels: Int

  /// `rows` N of one micro-batch, `microBatches` K.
  init(config c: LlamaConfig, rows n: Int, microBatches: Int, ledger: MemoryLedger) {
    func make(_ count: Int) -> AlignedBuffer<Float> {
      AlignedBuffer(count: count, category: .scratch, ledger: ledger)
    }
    rows = n
    channels = c.hiddenSize
    dResidual = make(microBatches * n * c.hiddenSize)
    dNorm = make(n * c.hiddenSize)
    dAttention = make(n * c.queryDim)
    dQ = make(n * c.queryDim)
    dK = make(n * c.kvDim)
    dV = make(n * c.kvDim)
    dSwiglu = make(n * c.intermediateSize)
    dGate = make(n * c.intermediateSize)
    dUp = make(n * c.intermediateSize)
    dKeyProjection = c.family.hasQueryKeyNorm ? make(n * c.kvDim) : nil
  }

  /// ∂L/∂residual of micro-batch `k`. [N, C]
  func dResidual(_ k: Int) -> UnsafeMutablePointer<Float> { dResidual.pointer + k * rows * channels }
}
