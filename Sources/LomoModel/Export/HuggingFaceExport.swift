import Foundation
import LomoCore
import LomoFormats

extension ModelExporter {
  /// Tokenizer files copied from a Hugging Face source folder when present.
  public static let tokenizerFiles = [
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
    "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja",
  ]

  /// Writes `parameters` as a Hugging Face folder: config.json (LlamaForCausalLM),
  /// model.safetensors (HF names; a tied model has no lm_head.weight), generation_config.json
  /// and the tokenizer: a Hugging Face source's tokenizer files are copied; from a GGUF source
  /// they are rebuilt from its metadata (`huggingFaceTokenizer(from:maxContext:)`) where that
  /// is supported, and otherwise reported in `Summary.missing`.
  ///
  /// The folder is written through an `AtomicDirectory`: nothing exists at `directory` until
  /// every file is complete, and an existing folder is replaced only with `overwrite`.
  @discardableResult
  public static func writeHuggingFace(
    _ parameters: LlamaParameters, to directory: String, dtype: DType? = nil,
    source: ModelSource? = nil, overwrite: Bool = false
  ) throws -> Summary {
    let fm = FileManager.default
    let folder = try AtomicDirectory(destination: directory, overwrite: overwrite)
    let directory = folder.destination
    func ioError(_ operation: String, _ file: String, _ error: Error) -> FileWriteError {
      FileWriteError(path: directory, problem: .io(operation: operation, file: file, reason: "\(error.localizedDescription)"))
    }
    let dtype = dtype ?? parameters.dtype
    let special = try specialTokens(source)

    var summary = Summary()
    do {
      func put(_ name: String, _ data: Data) throws {
        let file = try AtomicFileWriter(path: folder.path(name), overwrite: false)
        do throws(FileWriteError) {
          try file.write([UInt8](data))
          try file.commit()
        } catch {
          file.discard()
          throw error
        }
        summary.files.append(name)
      }
      try put("config.json", try configJSON(parameters.config, dtype: dtype, special: special))
      try put("generation_config.json", try generationConfigJSON(source: source, special: special))

      var weights = SafetensorsWriter()
      let stDType: SafetensorsFile.DType = switch dtype {
      case .f32: .f32
      case .f16: .f16
      case .bf16: .bf16
      }
      for tensor in parameters.all {
        weights.addTensor(tensor.id.description, shape: tensor.shape, dtype: stDType) { out in
          tensor.copyAsFloat(into: out.baseAddress!)
        }
      }
      try weights.write(to: folder.path("model.safetensors"))
      summary.files.append("model.safetensors")

      if case .huggingFace(let sourceDir) = source {
        for name in tokenizerFiles where fm.fileExists(atPath: sourceDir + "/" + name) {
          let data: Data
          do { data = try Data(contentsOf: URL(fileURLWithPath: sourceDir + "/" + name)) } catch {
            throw ioError("read", sourceDir + "/" + name, error)
          }
          try put(name, data)
        }
        if !fm.fileExists(atPath: sourceDir + "/tokenizer.json") && !fm.fileExists(atPath: sourceDir + "/tokenizer.model") {
          summary.missing.append("tokenizer.json (the source folder has none)")
        }
      } else if case .gguf(let sourcePath) = source {
        switch huggingFaceTokenizer(from: try GGUFFile(path: sourcePath).metadata, maxContext: parameters.config.maxContext) {
        case .files(let files):
          for name in files.keys.sorted() { try put(name, files[name]!) }
        case .unsupported(let reason):
          summary.missing.append("tokenizer.json (\(reason); transformers can read the tokenizer from a GGUF written by writeGGUF)")
        }
      } else {
        summary.missing.append("tokenizer.json (no source model given)")
      }
      try folder.commit()
    } catch {
      folder.discard()
      throw error
    }
    summary.files = summary.files.map { directory + "/" + $0 }
    return summary
  }

  /// bos/eos/pad ids of the source model, when it names them.
  struct SpecialTokens {
    var bos: Int?
    var eos: Int?
    var pad: Int?
  }

  static func specialTokens(_ source: ModelSource?) throws -> SpecialTokens {
    switch source {
    case .gguf(let path):
      let m = try GGUFFile(path: path).metadata
      return SpecialTokens(
        bos: m["tokenizer.ggml.bos_token_id"]?.intValue, eos: m["tokenizer.ggml.eos_token_id"]?.intValue,
        pad: m["tokenizer.ggml.padding_token_id"]?.intValue)
    case .huggingFace(let dir):
      guard let data = FileManager.default.contents(atPath: dir + "/config.json"),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      else { return SpecialTokens() }
      func id(_ key: String) -> Int? {
        if let i = json[key] as? Int { return i }
        return (json[key] as? [Int])?.first
      }
      return SpecialTokens(bos: id("bos_token_id"), eos: id("eos_token_id"), pad: id("pad_token_id"))
    case nil:
      return SpecialTokens()
    }
  }

  /// The shortest decimal that reads back as `value` (1e-05, not 9.999999747378752e-06).
  static func decimal(_ value: Float) -> Double { Double("\(value)") ?? Double(value) }

  static func torchDType(_ dtype: DType) -> String {
    switch dtype {
    case .f32: "float32"
    case .f16: "float16"
    case .bf16: "bfloat16"
    }
  }

  /// config.json for transformers' LlamaForCausalLM (fields of transformers 4.4x and 5.x).
  static func configJSON(_ c: LlamaConfig, dtype: DType, special: SpecialTokens) throws -> Data {
    var rope: [String: Any] = ["rope_type": "default", "rope_theta": decimal(c.ropeTheta)]
    var legacyScaling: Any = NSNull()
    if let s = c.ropeScaling {
      let scaling: [String: Any] = [
        "rope_type": "llama3", "factor": decimal(s.factor), "low_freq_factor": decimal(s.lowFrequencyFactor),
        "high_freq_factor": decimal(s.highFrequencyFactor), "original_max_position_embeddings": s.originalContext,
      ]
      rope.merge(scaling) { _, new in new }
      legacyScaling = scaling
    }
    let json: [String: Any] = [
      "architectures": ["LlamaForCausalLM"],
      "model_type": "llama",
      "hidden_size": c.hiddenSize,
      "intermediate_size": c.intermediateSize,
      "num_hidden_layers": c.layers,
      "num_attention_heads": c.heads,
      "num_key_value_heads": c.kvHeads,
      "head_dim": c.headDim,
      "vocab_size": c.vocabSize,
      "rms_norm_eps": decimal(c.rmsEps),
      "rope_theta": decimal(c.ropeTheta),
      "rope_parameters": rope,
      "rope_scaling": legacyScaling,
      "max_position_embeddings": c.maxContext,
      "tie_word_embeddings": c.tiedEmbeddings,
      "hidden_act": "silu",
      "attention_bias": false,
      "mlp_bias": false,
      "attention_dropout": 0.0,
      "initializer_range": 0.02,
      "pretraining_tp": 1,
      "use_cache": true,
      "bos_token_id": special.bos.map { $0 as Any } ?? NSNull(),
      "eos_token_id": special.eos.map { $0 as Any } ?? NSNull(),
      "pad_token_id": special.pad.map { $0 as Any } ?? NSNull(),
      "torch_dtype": torchDType(dtype),
      "dtype": torchDType(dtype),
    ]
    return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
  }

  /// The source folder's generation_config.json, else one with the special token ids.
  static func generationConfigJSON(source: ModelSource?, special: SpecialTokens) throws -> Data {
    if case .huggingFace(let dir) = source, let data = FileManager.default.contents(atPath: dir + "/generation_config.json") {
      return data
    }
    var json: [String: Any] = ["_from_model_config": true]
    if let bos = special.bos { json["bos_token_id"] = bos }
    if let eos = special.eos { json["eos_token_id"] = eos }
    if let pad = special.pad { json["pad_token_id"] = pad }
    return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
  }
}
