import LomoCore
import LomoDistributed
import LomoFormats

extension LlamaConfig {
  /// Reads the hyperparameters of a GGUF of a family lomo runs (`ModelFamily`: `llama` for
  /// LLaMA 1/2/3, SmolLM2, TinyLlama, Mistral; `qwen2`; `qwen3`): `LlamaConfig.fields` under the
  /// architecture's keys (`llama.*`, `qwen2.*`). The LM head is tied when the file has no
  /// `output.weight`.
  public init(gguf file: GGUFFile) throws {
    let m = file.metadata
    let arch = try m.string("general.architecture")
    guard let family = ModelFamily(ggufArchitecture: arch) else {
      throw ModelLoadError(
        path: file.path,
        problem: "architecture '\(Format.excerpt(arch))' is not supported; lomo loads \(ModelFamily.allCases.map(\.ggufArchitecture).joined(separator: ", "))")
    }
    try self.init(
      reading: \.gguf, fallback: \.ggufFallback, family: family,
      tiedEmbeddings: !file.contains(tensor: "output.weight"), ropeScaling: nil,
      has: { m.contains(family.ggufKey($0)) }, int: { try m.int(family.ggufKey($0)) },
      float: { try m.float(family.ggufKey($0)) }, tokenCount: { try m.stringArray(GGUFTokenizerKey.tokens).count })
    if file.contains(tensor: Self.ropeFactorsTensor) { try readRopeFactors(file) }
    try TensorInventory(gguf: file, family: family).check(self)
  }

  /// llama.cpp's per-frequency RoPE divisors (LLaMA 3.1/3.2 scaling). [D/2]
  static let ropeFactorsTensor = "rope_freqs.weight"

  /// Sets `ropeScaling` from `rope_freqs.weight` when the factors are LLaMA 3's formula with
  /// its usual constants (the config then equals config.json's), else `ropeFrequencyFactors`.
  private mutating func readRopeFactors(_ file: GGUFFile) throws {
    let info = try file.tensor(Self.ropeFactorsTensor)
    guard info.shape == [headDim / 2], headDim > 0, headDim <= Self.limits.first(where: { $0.path == \.headDim })!.limit else {
      throw ModelLoadError(path: file.path, problem: "tensor '\(Self.ropeFactorsTensor)' has shape \(info.shape), the head dim \(headDim) needs [\(headDim / 2)]")
    }
    var factors = [Float](repeating: 0, count: headDim / 2)
    try factors.withUnsafeMutableBufferPointer { try file.dequantize(Self.ropeFactorsTensor, into: $0) }
    // Checked with the other fields by `TensorInventory.check`.
    if let scaling = Llama3RopeScaling(fitting: factors, to: self) { ropeScaling = scaling } else { ropeFrequencyFactors = factors }
  }
}

extension TensorInventory {
  /// The tensors of a GGUF file under llama.cpp's names, config fields as `family`'s keys.
  init(gguf file: GGUFFile, family: ModelFamily) {
    self.init(
      path: file.path, shapes: Dictionary(file.tensors.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a }),
      name: \.ggufName, fieldName: { family.ggufKey($0.gguf[0]) },
      layer: { TensorInventory.layer(of: $0, prefix: "blk.") }, ignored: { $0 == LlamaConfig.ropeFactorsTensor })
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
        case .attentionNorm: "attn_norm.weight"
        case .query: "attn_q.weight"
        case .key: "attn_k.weight"
        case .value: "attn_v.weight"
        case .queryBias: "attn_q.bias"
        case .keyBias: "attn_k.bias"
        case .valueBias: "attn_v.bias"
        case .queryNorm: "attn_q_norm.weight"
        case .keyNorm: "attn_k_norm.weight"
        case .output: "attn_output.weight"
        case .mlpNorm: "ffn_norm.weight"
        case .postAttentionNorm: "post_attention_norm.weight"
        case .postMLPNorm: "post_ffw_norm.weight"
        case .gate: "ffn_gate.weight"
        case .up: "ffn_up.weight"
        case .down: "ffn_down.weight"
        }
      }()
    }
  }
}

extension LlamaParameters {
  /// Loads every parameter from a GGUF file, dequantising to f32 and storing as `dtype`.
  /// The file's tensors are checked against `config` (`TensorInventory`) before anything is
  /// allocated; `config.problems` must be empty (as `LlamaConfig(gguf:)` ensures).
  /// Q and K rows of a `llama` GGUF are put back from llama.cpp's interleaved order into
  /// Hugging Face's rotate-half order (`ModelFamily.ggufPermutesQueryKey`), so both formats
  /// give the same model.
  public static func load(
    config: LlamaConfig, from file: GGUFFile, dtype: DType,
    shardedOver communicator: Communicator = Communicator(), streamingLayersIn folder: String? = nil,
    ledger: MemoryLedger = .shared
  ) throws -> LlamaParameters {
    try TensorInventory(gguf: file, family: config.family).check(config)
    let params = try LlamaParameters.zeros(config: config, dtype: dtype, shardedOver: communicator,
                                           streamingLayersIn: folder, ledger: ledger)
    let staging = ScratchBuffer<Float>(ledger: ledger)
    try params.forEachTensor(writing: true) { tensor in
      let name = tensor.id.ggufName, shape = tensor.shard.fullShape, count = tensor.shard.fullCount
      let info = try file.tensor(name)
      guard info.shape == shape else {
        throw ModelLoadError(path: file.path, problem: "tensor '\(name)' has shape \(info.shape), the config needs \(shape)")
      }
      let values = UnsafeMutableBufferPointer(start: staging.pointer(count: count), count: count)
      try file.dequantize(name, into: values)
      if tensor.id.isNorm && config.family.normWeightOffset != 0 {  // llama.cpp stores Gemma's 1 + w
        for i in values.indices { values[i] -= config.family.normWeightOffset }
      }
      switch tensor.id {
      case _ where !config.family.ggufPermutesQueryKey: break
      case .layer(_, .query):
        try QKPermutation.undo(values, rows: shape[0], columns: shape[1], heads: config.heads)
      case .layer(_, .key):
        try QKPermutation.undo(values, rows: shape[0], columns: shape[1], heads: config.kvHeads)
      default: break
      }
      tensor.assign(values.baseAddress!)
    }
    return params
  }
}
