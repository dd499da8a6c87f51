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
    // Qwen's configs name a window they do not use (use_sliding_window false); Gemma 3's is read.
    if try family != .gemma3 && root["use_sliding_window"].ifPresent?.bool() != false, let window = try root["sliding_window"].ifPresent?.integer(),
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
    if family == .gemma3 { try checkGemma3(root, path: path) }
    if let e = invalidity(path: path, fieldName: { $0.huggingFace[0] }) { throw e }
  }

  /// What lomo's Gemma 3 does not do is refused: another activation, logit soft-capping,
  /// bidirectional attention, a layer pattern that is not every `slidingWindowPattern`-th
  /// layer global (`layer_types` is read for the pattern when given).
  private mutating func checkGemma3(_ root: JSONField, path: String) throws {
    if let act = try root["hidden_activation"].ifPresent?.string(), act != "gelu_pytorch_tanh" {
      throw ModelLoadError(path: path, problem: "hidden_activation '\(Format.excerpt(act))' is not supported; Gemma 3 uses gelu_pytorch_tanh")
    }
    for key in ["final_logit_softcapping", "attn_logit_softcapping"] where root[key].ifPresent != nil {
      throw ModelLoadError(path: path, problem: "\(key) is not supported (Gemma 3 has none)")
    }
    if try root["use_bidirectional_attention"].ifPresent?.bool() == true {
      throw ModelLoadError(path: path, problem: "use_bidirectional_attention is not supported")
    }
    guard let types = root["layer_types"].ifPresent else { return }
    let names = try types.array().map { try $0.string() }
    let global = names.indices.filter { names[$0] == "full_attention" }
    let pattern = (global.first ?? names.count) + 1
    let expected = names.indices.map { $0 % pattern == pattern - 1 ? "full_attention" : "sliding_attention" }
    guard names == expected, names.count == layers else {
      throw ModelLoadError(path: path, problem: "layer_types is not every n-th layer global over \(layers) layers; lomo runs Gemma 3's periodic pattern only")
    }
    slidingWindowPattern = pattern
  }

  /// The value at a config.json name, a dotted path such as `rope_parameters.rope_theta`.
  static func member(_ root: JSONField, _ name: String) -> JSONField {
    name.split(separator: ".").reduce(root) { $0[String($1)] }
  }
}
