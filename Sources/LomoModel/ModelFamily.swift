/// The decoder families lomo runs, as differences from LLaMA's block (pre-norm attention and
/// SwiGLU MLP, RMSNorm, RoPE, no biases). One model serves them all: each difference is a
/// property here that the parameters, forward, backward, loading and export consult.
///
/// - `llama`: LLaMA 1/2/3, SmolLM2, TinyLlama, Mistral (GGUF `llama`, config.json `llama`,
///   `mistral`).
/// - `qwen2`: Qwen2 and Qwen2.5: biases on the query, key and value projections (GGUF `qwen2`,
///   config.json `qwen2`).
/// - `qwen3`: Qwen3 (dense): RMSNorm of each head's query and key over the head dimension,
///   before RoPE; no biases; the head dimension is its own field (GGUF `qwen3`, config.json
///   `qwen3`).
/// - `gemma3`: Gemma 3 (text): per-head q/k norms as Qwen3; RMSNorm scaling by (1 + w); four
///   norms per block (before and after attention, before and after the MLP); GeGLU with
///   tanh-approximated GELU; embeddings scaled by sqrt(C); scores scaled by
///   1/sqrt(query_pre_attn_scalar); sliding-window attention with its own RoPE base on the
///   local layers (`LlamaConfig.slidingWindow`); tied embeddings (GGUF `gemma3`, config.json
///   `gemma3_text`). llama.cpp's GGUF stores each norm's 1 + w; lomo holds w, as transformers.
public enum ModelFamily: String, Sendable, Equatable, Codable, CaseIterable {
  case llama, qwen2, qwen3, gemma3

  /// The q, k and v projections add a learned bias: q = x·Wqᵀ + bq (and k, v alike).
  public var hasAttentionBias: Bool { self == .qwen2 }

  /// Each head's query and key rows are RMS-normalised over D with a learned [D] scale
  /// before RoPE (one scale for every head).
  public var hasQueryKeyNorm: Bool { self == .qwen3 || self == .gemma3 }

  /// Gemma's norms scale by (1 + w): the constant added to every norm weight before use.
  public var normWeightOffset: Float { self == .gemma3 ? 1 : 0 }

  /// The attention and MLP outputs are RMS-normed before they join the residual stream
  /// (Gemma's post-attention and post-feed-forward norms).
  public var hasPostNorms: Bool { self == .gemma3 }

  /// The MLP's gated activation: SwiGLU (silu(gate)·up) or GeGLU with tanh GELU.
  public var usesGeGLU: Bool { self == .gemma3 }

  /// The embedding rows are multiplied by sqrt(C) (Gemma), in the weights' dtype.
  public var scalesEmbedding: Bool { self == .gemma3 }

  /// llama.cpp's converter permutes the q and k rows into interleaved RoPE order for this
  /// family's GGUF (`llama` only; the others are stored in Hugging Face's rotate-half order).
  public var ggufPermutesQueryKey: Bool { self == .llama }

  /// The GGUF `general.architecture` (and prefix of its metadata keys).
  public var ggufArchitecture: String { rawValue }

  /// The family of a GGUF `general.architecture`, nil when lomo does not load it.
  public init?(ggufArchitecture: String) {
    self.init(rawValue: ggufArchitecture)
  }

  /// The family of a config.json `model_type`, nil when lomo does not load it.
  public init?(huggingFaceModelType type: String) {
    switch type {
    case "llama", "mistral": self = .llama
    case "qwen2": self = .qwen2
    case "qwen3": self = .qwen3
    case "gemma3_text": self = .gemma3
    default: return nil
    }
  }

  /// The family's name as people write it: LLaMA, Qwen2, Qwen3.
  public var displayName: String {
    switch self {
    case .llama: "LLaMA"
    case .qwen2: "Qwen2"
    case .qwen3: "Qwen3"
    case .gemma3: "Gemma 3"
    }
  }

  /// config.json `model_type` and `architectures` of an export.
  public var huggingFaceModelType: String { self == .gemma3 ? "gemma3_text" : rawValue }
  public var huggingFaceArchitecture: String {
    switch self {
    case .llama: "LlamaForCausalLM"
    case .qwen2: "Qwen2ForCausalLM"
    case .qwen3: "Qwen3ForCausalLM"
    case .gemma3: "Gemma3ForCausalLM"
    }
  }
}
