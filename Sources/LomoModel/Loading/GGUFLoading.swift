import LomoCore
import LomoFormats

extension LlamaConfig {
  /// Reads the hyperparameters of a `llama`-architecture GGUF (LLaMA 1/2/3, SmolLM2,
  /// TinyLlama, Mistral). The LM head is tied when the file has no `output.weight`.
  public init(gguf file: GGUFFile) throws {
    let m = file.metadata
    let arch = try m.string("general.architecture")
    guard arch == "llama" else {
      throw ModelLoadError(path: file.path, problem: "architecture '\(arch)' is not supported; lomo loads 'llama'")
    }
    if file.contains(tensor: "rope_freqs.weight") {
      throw ModelLoadError(path: file.path, problem: "per-frequency RoPE factors (rope_freqs.weight, LLaMA 3.1 long context) are not supported yet")
    }
    func int(_ key: String) throws -> Int { try m.int("llama." + key) }
    let heads = try int("attention.head_count")
    let hidden = try int("embedding_length")
    let vocab = m.contains("llama.vocab_size")
      ? try int("vocab_size") : try m.stringArray("tokenizer.ggml.tokens").count
    self.init(
      layers: try int("block_count"), hiddenSize: hidden,
      intermediateSize: try int("feed_forward_length"), heads: heads,
      kvHeads: m.contains("llama.attention.head_count_kv") ? try int("attention.head_count_kv") : heads,
      headDim: m.contains("llama.rope.dimension_count") ? try int("rope.dimension_count") : hidden / heads,
      vocabSize: vocab,
      ropeTheta: m.contains("llama.rope.freq_base") ? try m.float("llama.rope.freq_base") : 10_000,
      rmsEps: try m.float("llama.attention.layer_norm_rms_epsilon"),
      tiedEmbeddings: !file.contains(tensor: "output.weight"),
      maxContext: try int("context_length"))
    if !problems.isEmpty {
      throw ModelLoadError(path: file.path, problem: "invalid config: \(problems.joined(separator: "; "))")
    }
  }
}

extension ParameterID {
  /// The llama.cpp tensor name, e.g. `blk.3.attn_q.weight`.
  public var ggufName: String {
    switch self {
    case .embedding: "token_embd.weight"
    case .finalNorm: "output_norm.weight"
    case .lmHead: "output.weight"
    case .layer(let l, let p):
      "blk.\(l)." + {
        switch p {
        case .attentionNorm: "attn_norm"
        case .query: "attn_q"
        case .key: "attn_k"
        case .value: "attn_v"
        case .output: "attn_output"
        case .mlpNorm: "ffn_norm"
        case .gate: "ffn_gate"
        case .up: "ffn_up"
        case .down: "ffn_down"
        }
      }() + ".weight"
    }
  }
}

extension LlamaParameters {
  /// Loads every parameter from a GGUF file, dequantising to f32 and storing as `dtype`.
  /// Q and K rows are put back from llama.cpp's interleaved order into Hugging Face's
  /// rotate-half order, so both formats give the same model.
  public static func load(
    config: LlamaConfig, from file: GGUFFile, dtype: DType, ledger: MemoryLedger = .shared
  ) throws -> LlamaParameters {
    let params = LlamaParameters(config: config, dtype: dtype, ledger: ledger)
    let staging = ScratchBuffer<Float>(ledger: ledger)
    for tensor in params.all {
      let name = tensor.id.ggufName
      let info = try file.tensor(name)
      guard info.shape == tensor.shape else {
        throw ModelLoadError(path: file.path, problem: "tensor '\(name)' has shape \(info.shape), the config needs \(tensor.shape)")
      }
      let values = UnsafeMutableBufferPointer(start: staging.pointer(count: tensor.count), count: tensor.count)
      try file.dequantize(name, into: values)
      switch tensor.id {
      case .layer(_, .query):
        try QKPermutation.undo(values, rows: tensor.shape[0], columns: tensor.shape[1], heads: config.heads)
      case .layer(_, .key):
        try QKPermutation.undo(values, rows: tensor.shape[0], columns: tensor.shape[1], heads: config.kvHeads)
      default: break
      }
      tensor.assign(values.baseAddress!)
    }
    return params
  }
}
