/// Names every parameter tensor of a LLaMA model. The order of `all(for:)` is the order of the
/// forward pass; backward finalises gradients in roughly the reverse order.
public enum ParameterID: Hashable, Sendable, CustomStringConvertible {
  case embedding
  case finalNorm
  /// Present only when the LM head is not tied to the embedding.
  case lmHead
  case layer(Int, LayerParameter)

  /// A block's tensors. The nine of LLaMA are in every family; the biases only where
  /// `ModelFamily.hasAttentionBias`, the per-head query and key norms only where
  /// `hasQueryKeyNorm`, the norms of the attention and MLP outputs only where `hasPostNorms`
  /// (`present(in:)`). `mlpNorm` is the norm before the MLP in every family.
  public enum LayerParameter: String, CaseIterable, Sendable {
    case attentionNorm, query, key, value, queryBias, keyBias, valueBias, queryNorm, keyNorm
    case output, postAttentionNorm, mlpNorm, gate, up, down, postMLPNorm

    /// The tensors a block of `config` has, in forward order.
    public static func present(in config: LlamaConfig) -> [LayerParameter] {
      allCases.filter { p in
        switch p {
        case .queryBias, .keyBias, .valueBias: config.family.hasAttentionBias
        case .queryNorm, .keyNorm: config.family.hasQueryKeyNorm
        case .postAttentionNorm, .postMLPNorm: config.family.hasPostNorms
        default: true
        }
      }
    }
  }

  public static func all(for config: LlamaConfig) -> [ParameterID] {
    var ids: [ParameterID] = [.embedding]
    let present = LayerParameter.present(in: config)
    for l in 0..<config.layers {
      ids += present.map { .layer(l, $0) }
    }
    ids.append(.finalNorm)
    if !config.tiedEmbeddings { ids.append(.lmHead) }
    return ids
  }

  /// Row-major shape as Hugging Face stores it: linear weights are [out, in].
  public func shape(in c: LlamaConfig) -> [Int] {
    switch self {
    case .embedding, .lmHead: [c.vocabSize, c.hiddenSize]
    case .finalNorm: [c.hiddenSize]
    case .layer(_, let p):
      switch p {
      case .attentionNorm, .mlpNorm, .postAttentionNorm, .postMLPNorm: [c.hiddenSize]
      case .query: [c.queryDim, c.hiddenSize]
      case .key, .value: [c.kvDim, c.hiddenSize]
      case .queryBias: [c.queryDim]
      case .keyBias, .valueBias: [c.kvDim]
      case .queryNorm, .keyNorm: [c.headDim]
      case .output: [c.hiddenSize, c.queryDim]
      case .gate, .up: [c.intermediateSize, c.hiddenSize]
      case .down: [c.hiddenSize, c.intermediateSize]
      }
    }
  }

  /// Elements of the whole tensor in `c`.
  public func count(in c: LlamaConfig) -> Int { shape(in: c).reduce(1, *) }

  /// The block of a layer tensor, nil for the others.
  public var layer: Int? {
    if case .layer(let l, _) = self { return l }
    return nil
  }

  /// A norm's scale (a vector initialised to 1).
  public var isNorm: Bool {
    switch self {
    case .finalNorm, .layer(_, .attentionNorm), .layer(_, .mlpNorm), .layer(_, .queryNorm), .layer(_, .keyNorm),
         .layer(_, .postAttentionNorm), .layer(_, .postMLPNorm): true
    default: false
    }
  }

  /// A bias (a vector initialised to 0).
  public var isBias: Bool {
    switch self {
    case .layer(_, .queryBias), .layer(_, .keyBias), .layer(_, .valueBias): true
    default: false
    }
  }

  /// The tensor's name in `family`'s Hugging Face checkpoints: `description`, but Gemma calls
  /// the norm before its MLP `pre_feedforward_layernorm` and the one after attention
  /// `post_attention_layernorm` (LLaMA's name of the norm before the MLP).
  public func huggingFaceName(in family: ModelFamily) -> String {
    guard family == .gemma3, case .layer(let l, let p) = self else { return description }
    switch p {
    case .mlpNorm: return "model.layers.\(l).pre_feedforward_layernorm.weight"
    case .postAttentionNorm: return "model.layers.\(l).post_attention_layernorm.weight"
    default: return description
    }
  }

  /// The Hugging Face checkpoint name in LLaMA's naming, e.g.
  /// `model.layers.3.self_attn.q_proj.weight` (lomo's own name for Gemma's norm after
  /// attention, `post_attention_norm`, which LLaMA's naming gives to the MLP's); unique within
  /// every family, so also the name in lomo's checkpoints.
  public var description: String {
    switch self {
    case .embedding: "model.embed_tokens.weight"
    case .finalNorm: "model.norm.weight"
    case .lmHead: "lm_head.weight"
    case .layer(let l, let p):
      "model.layers.\(l)." + {
        switch p {
        case .attentionNorm: "input_layernorm.weight"
        case .query: "self_attn.q_proj.weight"
        case .key: "self_attn.k_proj.weight"
        case .value: "self_attn.v_proj.weight"
        case .queryBias: "self_attn.q_proj.bias"
        case .keyBias: "self_attn.k_proj.bias"
        case .valueBias: "self_attn.v_proj.bias"
        case .queryNorm: "self_attn.q_norm.weight"
        case .keyNorm: "self_attn.k_norm.weight"
        case .output: "self_attn.o_proj.weight"
        case .mlpNorm: "post_attention_layernorm.weight"
        case .postAttentionNorm: "post_attention_norm.weight"
        case .postMLPNorm: "post_feedforward_layernorm.weight"
        case .gate: "mlp.gate_proj.weight"
        case .up: "mlp.up_proj.weight"
        case .down: "mlp.down_proj.weight"
        }
      }()
    }
  }
}
