/// One hyperparameter of `LlamaConfig` with its names in Hugging Face's config.json and in
/// GGUF metadata, and what a file without it means. Loading (`LlamaConfig(huggingFace:...)`,
/// `LlamaConfig(gguf:)`) and export (`ModelExporter`) all walk `LlamaConfig.fields`, so a new
/// hyperparameter is added here once.
///
/// Names list aliases: a reader takes the first one the file has, a writer writes them all
/// (`rope_theta` and transformers 5's `rope_parameters.rope_theta`; llama.cpp's head size as
/// `rope.dimension_count`, `attention.key_length` and `attention.value_length`). config.json
/// names may be dotted paths into nested objects; GGUF names follow the architecture prefix
/// (`llama.` + name, `qwen2.` + name: `ModelFamily.ggufKey`).
struct LlamaConfigField: Sendable {
  enum Value: Sendable {
    case int(WritableKeyPath<LlamaConfig, Int> & Sendable)
    case float(WritableKeyPath<LlamaConfig, Float> & Sendable)
  }

  /// What a file that has none of a field's names means.
  enum Fallback: Sendable {
    /// An error naming the first name.
    case required
    case constant(Float)
    /// Computed from the fields before this one in `LlamaConfig.fields`.
    case derived(@Sendable (LlamaConfig) -> Int)
    /// GGUF only: the length of `tokenizer.ggml.tokens`.
    case tokenCount
  }

  let value: Value
  let huggingFace: [String]
  let huggingFaceFallback: Fallback
  let gguf: [String]
  let ggufFallback: Fallback
  /// The families whose configs have this field (every family when nil).
  var families: Set<ModelFamily>? = nil
}

extension ModelFamily {
  /// The full GGUF key of a field name for this family: `llama.block_count`, `qwen2.block_count`.
  func ggufKey(_ name: String) -> String { ggufArchitecture + "." + name }
}

extension LlamaConfig {
  /// Every scalar hyperparameter, in the order they are read (fallbacks may use earlier ones).
  /// `tiedEmbeddings` (config.json `tie_word_embeddings`; in GGUF the absence of
  /// `output.weight`) and `ropeScaling` (a nested object) are handled by each format.
  static let fields: [LlamaConfigField] = [
    .init(value: .int(\.layers), huggingFace: ["num_hidden_layers"], huggingFaceFallback: .required,
          gguf: ["block_count"], ggufFallback: .required),
    .init(value: .int(\.hiddenSize), huggingFace: ["hidden_size"], huggingFaceFallback: .required,
          gguf: ["embedding_length"], ggufFallback: .required),
    .init(value: .int(\.intermediateSize), huggingFace: ["intermediate_size"], huggingFaceFallback: .required,
          gguf: ["feed_forward_length"], ggufFallback: .required),
    .init(value: .int(\.heads), huggingFace: ["num_attention_heads"], huggingFaceFallback: .required,
          gguf: ["attention.head_count"], ggufFallback: .required),
    .init(value: .int(\.kvHeads), huggingFace: ["num_key_value_heads"], huggingFaceFallback: .derived { $0.heads },
          gguf: ["attention.head_count_kv"], ggufFallback: .derived { $0.heads }),
    .init(value: .int(\.headDim), huggingFace: ["head_dim"], huggingFaceFallback: .derived { $0.hiddenSize / max($0.heads, 1) },
          gguf: ["rope.dimension_count", "attention.key_length", "attention.value_length"],
          ggufFallback: .derived { $0.hiddenSize / max($0.heads, 1) }),
    .init(value: .int(\.vocabSize), huggingFace: ["vocab_size"], huggingFaceFallback: .required,
          gguf: ["vocab_size"], ggufFallback: .tokenCount),
    .init(value: .int(\.maxContext), huggingFace: ["max_position_embeddings"], huggingFaceFallback: .constant(2048),
          gguf: ["context_length"], ggufFallback: .required),
    .init(value: .float(\.ropeTheta), huggingFace: ["rope_theta", "rope_parameters.rope_theta"],
          huggingFaceFallback: .constant(10_000), gguf: ["rope.freq_base"], ggufFallback: .constant(10_000),
          families: [.llama, .qwen2, .qwen3]),
    .init(value: .float(\.rmsEps), huggingFace: ["rms_norm_eps"], huggingFaceFallback: .constant(1e-6),
          gguf: ["attention.layer_norm_rms_epsilon"], ggufFallback: .required),
    // Gemma 3: RoPE per layer type, the sliding window and its pattern, the score scale.
    // (llama.cpp fixes the pattern at 6 and the local base at 10000, and takes the scale from
    // the head dim, as for every Gemma 3 but the 27B.)
    .init(value: .float(\.ropeTheta), huggingFace: ["rope_parameters.full_attention.rope_theta", "rope_theta"],
          huggingFaceFallback: .constant(1_000_000), gguf: ["rope.freq_base"], ggufFallback: .constant(1_000_000),
          families: [.gemma3]),
    .init(value: .float(\.localRopeTheta), huggingFace: ["rope_parameters.sliding_attention.rope_theta", "rope_local_base_freq"],
          huggingFaceFallback: .constant(10_000), gguf: ["rope.freq_base_swa"], ggufFallback: .constant(10_000),
          families: [.gemma3]),
    .init(value: .int(\.slidingWindow), huggingFace: ["sliding_window"], huggingFaceFallback: .required,
          gguf: ["attention.sliding_window"], ggufFallback: .required, families: [.gemma3]),
    .init(value: .int(\.slidingWindowPattern), huggingFace: ["sliding_window_pattern", "_sliding_window_pattern"],
          huggingFaceFallback: .constant(6), gguf: ["attention.sliding_window_pattern"], ggufFallback: .constant(6),
          families: [.gemma3]),
    .init(value: .int(\.queryPreAttentionScalar), huggingFace: ["query_pre_attn_scalar"],
          huggingFaceFallback: .derived { $0.headDim }, gguf: ["attention.query_pre_attn_scalar"],
          ggufFallback: .derived { $0.headDim }, families: [.gemma3]),
  ]

  /// The fields of `family`'s configs, in reading order.
  static func fields(for family: ModelFamily) -> [LlamaConfigField] {
    fields.filter { $0.families?.contains(family) ?? true }
  }

  /// A configuration read field by field from one format: `names` and `fallback` pick the
  /// format's columns, `has` says whether the file has a name, `int`/`float` read it (throwing
  /// the format's own error, which also reports a required field that is missing), and
  /// `tokenCount` serves `.tokenCount`.
  init(
    reading names: KeyPath<LlamaConfigField, [String]>, fallback: KeyPath<LlamaConfigField, LlamaConfigField.Fallback>,
    family: ModelFamily, tiedEmbeddings: Bool, ropeScaling: Llama3RopeScaling?,
    has: (String) -> Bool, int: (String) throws -> Int, float: (String) throws -> Float,
    tokenCount: () throws -> Int
  ) throws {
    self.init(family: family, layers: 0, hiddenSize: 0, intermediateSize: 0, heads: 0, kvHeads: 0, headDim: 0,
              vocabSize: 0, tiedEmbeddings: tiedEmbeddings, ropeScaling: ropeScaling)
    for field in Self.fields(for: family) {
      let aliases = field[keyPath: names]
      let name = aliases.first(where: has)
      // A missing field's fallback, kept in its own type: an Int taken from the file (a
      // derived kv-head count equal to a huge head count) never goes through Double.
      var missingInt: Int?, missingFloat: Float?
      switch (name, field[keyPath: fallback]) {
      case (nil, .constant(let c)): missingInt = Int(exactly: c); missingFloat = c
      case (nil, .derived(let f)): missingInt = f(self); missingFloat = Float(f(self))
      case (nil, .tokenCount): missingInt = try tokenCount(); missingFloat = missingInt.map(Float.init)
      default: break  // present, or required: reading the first name reports it
      }
      let key = name ?? aliases[0]
      switch field.value {
      case .int(let path): self[keyPath: path] = try missingInt ?? int(key)
      case .float(let path): self[keyPath: path] = try missingFloat ?? float(key)
      }
    }
    // A family without the field scales scores by the head dim (the other fields' defaults
    // do not depend on the file).
    if family != .gemma3 { queryPreAttentionScalar = headDim }
  }

  /// The field of `LlamaConfig.fields` that holds `path`.
  static func field(_ path: KeyPath<LlamaConfig, Int>) -> LlamaConfigField? {
    fields.first { if case .int(let p) = $0.value { p == path } else { false } }
  }

  /// `problems` naming each field as one format does (`fieldName`: `llama.block_count`,
  /// `num_hidden_layers`), joined into a `ModelLoadError` for `path` that says what to do; nil
  /// when there are none.
  func invalidity(path: String, fieldName: (LlamaConfigField) -> String) -> ModelLoadError? {
    let found = problems(naming: { p in Self.field(p).map(fieldName) ?? "\(p)" })
    guard !found.isEmpty else { return nil }
    return ModelLoadError(
      path: path, problem: "invalid config: \(found.joined(separator: "; ")); the file is corrupt or not a LLaMA model, re-convert or re-download it")
  }

  /// The value of `field` in this configuration, as a JSON or GGUF writer needs it.
  func value(of field: LlamaConfigField) -> LlamaConfigValue {
    switch field.value {
    case .int(let path): .int(self[keyPath: path])
    case .float(let path): .float(self[keyPath: path])
    }
  }
}

/// A hyperparameter's value, by kind.
enum LlamaConfigValue: Equatable {
  case int(Int)
  case float(Float)
}
