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
public enum ModelFamily: String, Sendable, Equatable, Codable, CaseIterable {
  case llama, qwen2, qwen3

  /// The q, k and v projections add a learned bias: q = x·Wqᵀ + bq (and k, v alike).
  public var hasAttentionBias: Bool { self == .qwen2 }

  /// Each head's query and key rows are RMS-normalised over D with a learned [D] scale
  /// before RoPE (one scale for every head).
  public var hasQueryKeyNorm: Bool { self == .qwen3 }

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
    default: return nil
    }
  }

  /// The family's name as people write it: LLaMA, Qwen2, Qwen3.
  public var displayName: String {
    switch self {
    case .llama: "LLaMA"
    case .qwen2: "Qwen2"
    case .qwen3: "Qwen3"
    }
  }

  /// config.json `model_type` and `architectures` of an export.
  public var huggingFaceModelType: String { rawValue }
  public var huggingFaceArchitecture: String {
    switch self {
    case .llama: "LlamaForCausalLM"
    case .qwen2: "Qwen2ForCausalLM"
    case .qwen3: "Qwen3ForCausalLM"
    }
  }
}
