import Foundation

extension LlamaConfig {
  /// Reads a Hugging Face `config.json` of a LLaMA-architecture model (LlamaForCausalLM,
  /// MistralForCausalLM without sliding window, SmolLM2, TinyLlama).
  public init(huggingFaceConfig path: String) throws {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw ModelLoadError(path: path, problem: "cannot read config.json: \(error.localizedDescription)")
    }
    let raw: HuggingFaceConfig
    do { raw = try JSONDecoder().decode(HuggingFaceConfig.self, from: data) } catch {
      throw ModelLoadError(path: path, problem: "not a LLaMA config.json: \(Self.describe(error))")
    }
    try self.init(raw, path: path)
  }

  init(_ raw: HuggingFaceConfig, path: String) throws {
    let supported = ["llama", "mistral"]
    if let type = raw.model_type, !supported.contains(type) {
      throw ModelLoadError(path: path, problem: "model_type '\(type)' is not supported; lomo loads \(supported.joined(separator: ", "))")
    }
    if raw.attention_bias == true || raw.mlp_bias == true {
      throw ModelLoadError(path: path, problem: "attention or MLP biases are not supported")
    }
    if let window = raw.sliding_window, window < (raw.max_position_embeddings ?? Int.max) {
      throw ModelLoadError(path: path, problem: "sliding-window attention (\(window)) is not supported")
    }
    let rope = raw.rope_parameters ?? raw.rope_scaling
    var scaling: Llama3RopeScaling?
    if let rope, let type = rope.rope_type ?? rope.type, type != "default" {
      guard type == "llama3", let factor = rope.factor, let low = rope.low_freq_factor,
            let high = rope.high_freq_factor, let original = rope.original_max_position_embeddings
      else { throw ModelLoadError(path: path, problem: "RoPE scaling '\(type)' is not supported") }
      scaling = Llama3RopeScaling(factor: Float(factor), lowFrequencyFactor: Float(low),
                                  highFrequencyFactor: Float(high), originalContext: original)
    }
    self.init(
      layers: raw.num_hidden_layers, hiddenSize: raw.hidden_size,
      intermediateSize: raw.intermediate_size, heads: raw.num_attention_heads,
      kvHeads: raw.num_key_value_heads ?? raw.num_attention_heads, headDim: raw.head_dim,
      vocabSize: raw.vocab_size, ropeTheta: Float(raw.rope_theta ?? rope?.rope_theta ?? 10_000),
      rmsEps: Float(raw.rms_norm_eps ?? 1e-6), tiedEmbeddings: raw.tie_word_embeddings ?? false,
      maxContext: raw.max_position_embeddings ?? 2048, ropeScaling: scaling)
    if !problems.isEmpty {
      throw ModelLoadError(path: path, problem: "invalid config: \(problems.joined(separator: "; "))")
    }
  }

  static func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): "missing key '\(key.stringValue)'"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
    case DecodingError.dataCorrupted(let context): context.debugDescription
    default: "\(error)"
    }
  }
}

/// The fields of Hugging Face's `config.json` that lomo uses (names as in the file).
struct HuggingFaceConfig: Decodable {
  struct Rope: Decodable {
    var rope_type: String?
    var type: String?
    var rope_theta: Double?
    var factor: Double?
    var low_freq_factor: Double?
    var high_freq_factor: Double?
    var original_max_position_embeddings: Int?
  }

  var model_type: String?
  var num_hidden_layers: Int
  var hidden_size: Int
  var intermediate_size: Int
  var num_attention_heads: Int
  var num_key_value_heads: Int?
  var head_dim: Int?
  var vocab_size: Int
  var rope_theta: Double?
  var rms_norm_eps: Double?
  var tie_word_embeddings: Bool?
  var max_position_embeddings: Int?
  var rope_scaling: Rope?
  var rope_parameters: Rope?
  var attention_bias: Bool?
  var mlp_bias: Bool?
  var sliding_window: Int?
}
