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
  }
}

/// All forward state of one batch shape: the residual stream at every layer boundary (kept for
/// training: with activation checkpointing it is all that is kept; inference keeps two
/// boundaries and alternates) and the per-layer activations, one set per layer, or a single set
/// that backward refills by recomputing each layer (and that inference overwrites).
final class ForwardState {
  let batch: Int
  let time: Int
  let checkpointing: Bool
  /// Every layer's input is kept, so backward can run. False: inference only.
  let keepsLayerInputs: Bool
  /// With `keepsLayerInputs`, residual[l] is the input of layer l and residual[L] the input
  /// of the final norm; without, layer l reads residual[l % 2]. [N, C] each.
  let residual: [AlignedBuffer<Float>]
  let layers: [LayerActivations]
  let finalNorm: AlignedBuffer<Float>  // [N, C]
  let finalRstd: AlignedBuffer<Float>  // [N]
  let tokens: AlignedBuffer<Int32>  // [N]
  let targets: AlignedBuffer<Int32>  // [N]

  init(config c: LlamaConfig, batch: Int, time: Int, checkpointing: Bool,
       keepsLayerInputs: Bool = true, ledger: MemoryLedger) {
    self.batch = batch
    self.time = time
    self.checkpointing = checkpointing
    self.keepsLayerInputs = keepsLayerInputs
    let n = batch * time
    residual = (0..<(keepsLayerInputs ? c.layers + 1 : 2)).map { _ in
      AlignedBuffer(count: n * c.hiddenSize, category: .activations, ledger: ledger)
    }
    layers = (0..<(checkpointing ? 1 : c.layers)).map { _ in
      LayerActivations(config: c, batch: batch, time: time, ledger: ledger)
    }
    finalNorm = AlignedBuffer(count: n * c.hiddenSize, category: .activations, ledger: ledger)
    finalRstd = AlignedBuffer(count: n, category: .activations, ledger: ledger)
    tokens = AlignedBuffer(count: n, category: .activations, ledger: ledger)
    targets = AlignedBuffer(count: n, category: .activations, ledger: ledger)
  }

  func activations(ofLayer l: Int) -> LayerActivations { layers[checkpointing ? 0 : l] }

  /// The residual stream entering layer `l` (l = L: the final norm's input). [N, C]
  func layerInput(_ l: Int) -> UnsafeMutablePointer<Float> {
    residual[keepsLayerInputs ? l : l % 2].pointer
  }
}

/// Activation gradients of one block, reused by every layer in backward. [N, ·] each.
final class BackwardScratch {
  let dResidual: AlignedBuffer<Float>  // [N, C]  ∂L/∂residual, carried down the layers
  let dNorm: AlignedBuffer<Float>  // [N, C]
  let dAttention: AlignedBuffer<Float>  // [N, H·D]
  let dQ: AlignedBuffer<Float>  // [N, H·D]
  let dK: AlignedBuffer<Float>  // [N, KVH·D]
  let dV: AlignedBuffer<Float>  // [N, KVH·D]
  let dSwiglu: AlignedBuffer<Float>  // [N, F]
  let dGate: AlignedBuffer<Float>  // [N, F]
  let dUp: AlignedBuffer<Float>  // [N, F]

  init(config c: LlamaConfig, rows n: Int, ledger: MemoryLedger) {
    func make(_ count: Int) -> AlignedBuffer<Float> {
      AlignedBuffer(count: count, category: .scratch, ledger: ledger)
    }
    dResidual = make(n * c.hiddenSize)
    dNorm = make(n * c.hiddenSize)
    dAttention = make(n * c.queryDim)
    dQ = make(n * c.queryDim)
    dK = make(n * c.kvDim)
    dV = make(n * c.kvDim)
    dSwiglu = make(n * c.intermediateSize)
    dGate = make(n * c.intermediateSize)
    dUp = make(n * c.intermediateSize)
  }
}
