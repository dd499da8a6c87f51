import LomoCore
import LomoDistributed
import LomoFormats

extension LlamaParameters {
  /// Loads every parameter of `config` from a safetensors checkpoint (Hugging Face names,
  /// shapes checked) into `dtype` storage. A tied model ignores a stored `lm_head.weight`.
  /// The checkpoint's tensors are checked against `config` (`TensorInventory`, with
  /// config.json's field names) before anything is allocated; a `config` with problems is an
  /// error.
  public static func load(
    config: LlamaConfig, from checkpoint: SafetensorsCheckpoint, dtype: DType,
    shardedOver communicator: Communicator = Communicator(), streamingLayersIn folder: String? = nil,
    ledger: MemoryLedger = .shared
  ) throws -> LlamaParameters {
    try TensorInventory(checkpoint: checkpoint, family: config.family, tied: config.tiedEmbeddings).check(config)
    let params = try LlamaParameters.zeros(config: config, dtype: dtype, shardedOver: communicator,
                                           streamingLayersIn: folder, ledger: ledger)
    let staging = ScratchBuffer<Float>(ledger: ledger)
    try params.forEachTensor(writing: true) { tensor in
      let values = staging.pointer(count: tensor.shard.fullCount)
      try checkpoint.readFloats(tensor.id.huggingFaceName(in: config.family), expectedShape: tensor.shard.fullShape, into: values)
      tensor.assign(values)
    }
    return params
  }
}

extension TensorInventory {
  /// The tensors of a safetensors checkpoint under Hugging Face's names, config fields as
  /// config.json names. Left unread: `lm_head.weight` of a tied model and the `rotary_emb.inv_freq`
  /// buffers older transformers saved (recomputed from the config).
  init(checkpoint: SafetensorsCheckpoint, family: ModelFamily, tied: Bool) {
    let shapes = Dictionary(checkpoint.tensorNames.compactMap { n in checkpoint.info(n).map { (n, $0.shape) } },
                            uniquingKeysWith: { a, _ in a })
    self.init(
      path: checkpoint.directory, shapes: shapes, name: { $0.huggingFaceName(in: family) },
      fieldName: { $0.huggingFace[0] }, layer: { TensorInventory.layer(of: $0, prefix: "model.layers.") },
      ignored: { ($0 == ParameterID.lmHead.description && tied) || $0.hasSuffix(".rotary_emb.inv_freq") })
  }
}
