import LomoCore
import LomoFormats

extension LlamaParameters {
  /// Loads every parameter of `config` from a safetensors checkpoint (Hugging Face names,
  /// shapes checked) into `dtype` storage. A tied model ignores a stored `lm_head.weight`.
  public static func load(
    config: LlamaConfig, from checkpoint: SafetensorsCheckpoint, dtype: DType,
    ledger: MemoryLedger = .shared
  ) throws -> LlamaParameters {
    let params = LlamaParameters(config: config, dtype: dtype, ledger: ledger)
    let staging = ScratchBuffer<Float>(ledger: ledger)
    for tensor in params.all {
      let values = staging.pointer(count: tensor.count)
      try checkpoint.readFloats(tensor.id.description, expectedShape: tensor.shape, into: values)
      tensor.assign(values)
    }
    return params
  }
}
