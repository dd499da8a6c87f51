import Foundation
import LomoCore

extension LlamaConfig {
  /// Reads a Hugging Face `config.json` of a LLaMA-architecture model (LlamaForCausalLM,
  /// MistralForCausalLM without sliding window, SmolLM2, TinyLlama) or of Qwen2/2.5 or Qwen3
  /// (`model_type` picks the `ModelFamily`): the hyperparameters of
  /// `LlamaConfig.fields` under their config.json names, `tie_word_embeddings`, and LLaMA 3's
  /// RoPE scaling from `rope_parameters` (transformers 5) or `rope_scaling`. Errors name the
  /// file and the field: `…/config.json: rope_scaling.factor: expected a number, found a string`.
  public init(huggingFaceConfig path: String) throws {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw ModelLoadError(path: path, problem: "cannot read config.json: \(error.localizedDescription)")
    }
    do {
      let root = JSONField(try JSONValue(parsing: data))
      _ = try root.object()
      try self.init(huggingFace: root, path: path)
    } catch let e as JSONError {
      throw ModelLoadError(path: path, problem: "\(e)")
    }
  }

  init(huggingFace root: JSONField, path: String) throws {
    var family = ModelFamily.llama
    if let type = try root["model_type"].ifPresent?.string() {
      guard let known = ModelFamily(huggingFaceModelType: type) else {
        throw ModelLoadError(path: path, problem: "model_type '\(Format.excerpt(type))' is not supported; lomo loads llama, mistral, qwen2, qwen3")
      }
      family = known
    }
    // Qwen2's q/k/v biases are implied by its model_type; elsewhere a bias is refused.
    if try !family.hasAttentionBias && root["attention_bias"].ifPresent?.bool() == true || root["mlp_bias"].ifPresent?.bool() == true {
      throw ModelLoadError(path: path, problem: "attention or MLP biases are not supported for model_type \(family.huggingFaceModelType)")
    }
    // Qwen's configs name a window they do not use (use_sliding_window false).
    if try root["use_sliding_window"].ifPresent?.bool() != false, let window = try root["sliding_window"].ifPresent?.integer(),
       window < (try root["max_position_embeddings"].ifPresent?.integer() ?? Int.max) {
      throw ModelLoadError(path: path, problem: "sliding-window attention (\(window)) is not supported")
    }
    let rope = root["rope_parameters"].ifPresent ?? root["rope_scaling"]
    var scaling: Llama3RopeScaling?
    if let type = try rope["rope_type"].ifPresent?.string() ?? rope["type"].ifPresent?.string(), type != "default" {
      guard type == "llama3", let factor = try rope["factor"].ifPresent?.float(),
            let low = try rope["low_freq_factor"].ifPresent?.float(),
            let high = try rope["high_freq_factor"].ifPresent?.float(),
            let original = try rope["original_max_position_embeddings"].ifPresent?.integer()
      else { throw ModelLoadError(path: path, problem: "RoPE scaling '\(Format.excerpt(type))' is not supported") }
      scaling = Llama3RopeScaling(factor: factor, lowFrequencyFactor: low, highFrequencyFactor: high, originalContext: original)
    }
    try self.init(
      reading: \.huggingFace, fallback: \.huggingFaceFallback, family: family,
      tiedEmbeddings: try root["tie_word_embeddings"].ifPresent?.bool() ?? false, ropeScaling: scaling,
      has: { Self.member(root, $0).isPresent }, int: { try Self.member(root, $0).integer() },
      float: { try Self.member(root, $0).float() }, tokenCount: { throw root.error(.missing) })
    if let e = invalidity(path: path, fieldName: { $0.huggingFace[0] }) { throw e }
  }

  /// The value at a config.json name, a dotted path such as `rope_parameters.rope_theta`.
  static func member(_ root: JSONField, _ name: String) -> JSONField {
    name.split(separator: ".").reduce(root) { $0[String($1)] }
  }
}
