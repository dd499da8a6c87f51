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
  /// is supported, and otherwise reported in `Summary.missing`. With `name` (a fine-tune's), a
  /// README.md model card naming it and its base model (`modelCard(name:source:)`).
  ///
  /// The folder is written through an `AtomicDirectory`: nothing exists at `directory` until
  /// every file is complete, and an existing folder is replaced only with `overwrite`.
  @discardableResult
  public static func writeHuggingFace(
    _ parameters: LlamaParameters, to directory: String, dtype: DType? = nil,
    source: ModelSource? = nil, name: String? = nil, overwrite: Bool = false
  ) throws -> Summary {
    if parameters.config.ropeFrequencyFactors != nil {
      throw FileWriteError(path: directory, problem: .invalidMetadata(
        key: LlamaConfig.ropeFactorsTensor,
        reason: "the model's RoPE factors are not LLaMA 3's scaling with its usual constants, so config.json cannot express them; export as GGUF instead"))
    }
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
      try put("config.json", configJSON(parameters.config, dtype: dtype, special: special))
      try put("generation_config.json", generationConfigJSON(source: source, special: special))

      var weights = SafetensorsWriter()
      let stDType: SafetensorsFile.DType = switch dtype {
      case .f32: .f32
      case .f16: .f16
      case .bf16: .bf16
      }
      for tensor in parameters.all {
        weights.addTensor(tensor.id.huggingFaceName(in: parameters.config.family), shape: tensor.shard.fullShape, dtype: stDType) { out in
          parameters.copyWholeAsFloat(tensor, into: out.baseAddress!)
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
      if let name { try put("README.md", Data(try modelCard(name: name, source: source).utf8)) }
      try folder.commit()
    } catch {
      folder.discard()
      throw error
    }
    summary.files = summary.files.map { directory + "/" + $0 }
    return summary
  }

  /// The model card of a fine-tune named `name` (`README.md`, where the Hugging Face hub and
  /// its tools look): front matter naming the base model (the source GGUF's `general.name`, or
  /// the source folder's or file's name) and the tool, then the name.
  static func modelCard(name: String, source: ModelSource?) throws -> String {
    var base: String?
    switch source {
    case .gguf(let path):
      base = try GGUFFile(path: path).metadata["general.name"]?.stringValue ?? (path as NSString).lastPathComponent
    case .huggingFace(let dir):
      base = (dir as NSString).lastPathComponent
    case nil:
      base = nil
    }
    var lines = ["---"]
    // A JSON string is a YAML double-quoted scalar.
    if let base { lines.append("base_model: \(JSONValue.string(base).description)") }
    lines += ["library_name: transformers", "tags:", "- lomo", "- fine-tuned", "---", "", "# \(name)", ""]
    lines.append("Fully fine-tuned by lomo" + (base.map { " from \($0)" } ?? "") + ".")
    return lines.joined(separator: "\n") + "\n"
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
        bos: m[GGUFTokenizerKey.bosID]?.intValue, eos: m[GGUFTokenizerKey.eosID]?.intValue,
        pad: m[GGUFTokenizerKey.paddingID]?.intValue)
    case .huggingFace(let dir):
      guard let data = FileManager.default.contents(atPath: dir + "/config.json"),
            let json = try? JSONValue(parsing: data)
      else { return SpecialTokens() }
      /// An id, or the first of a list of ids (several eos tokens).
      func id(_ key: String) -> Int? {
        let field = JSONField(json)[key]
        return (try? field.integer()) ?? (try? field.array().first?.integer())
      }
      return SpecialTokens(bos: id("bos_token_id"), eos: id("eos_token_id"), pad: id("pad_token_id"))
    case nil:
      return SpecialTokens()
    }
  }

  static func torchDType(_ dtype: DType) -> String {
    switch dtype {
    case .f32: "float32"
    case .f16: "float16"
    case .bf16: "bfloat16"
    }
  }

  /// config.json for transformers' model class of the family (LlamaForCausalLM,
  /// Qwen2ForCausalLM, Qwen3ForCausalLM; fields of transformers 4.4x and 5.x):
  /// `LlamaConfig.fields` under their config.json names, plus the constants transformers
  /// expects. Floats are the shortest decimals that read back as the Float (1e-05).
  static func configJSON(_ c: LlamaConfig, dtype: DType, special: SpecialTokens) -> Data {
    var json: JSONValue = [
      "architectures": [.string(c.family.huggingFaceArchitecture)], "model_type": .string(c.family.huggingFaceModelType),
    ]
    if c.family == .gemma3 {  // RoPE per layer type, the layers' types, GeGLU
      set(["rope_type": "default"], at: ["rope_parameters", "full_attention"], in: &json)
      set(["rope_type": "default"], at: ["rope_parameters", "sliding_attention"], in: &json)
      let types = (0..<c.layers).map { JSONValue.string(c.isSlidingWindowLayer($0) ? "sliding_attention" : "full_attention") }
      set(.array(types), at: ["layer_types"], in: &json)
      set("gelu_pytorch_tanh", at: ["hidden_activation"], in: &json)
    } else {
      set(["rope_type": "default"], at: ["rope_parameters"], in: &json)
      set("silu", at: ["hidden_act"], in: &json)
    }
    for field in LlamaConfig.fields(for: c.family) {
      let value: JSONValue = switch c.value(of: field) {
      case .int(let v): JSONValue(v)
      case .float(let v): JSONValue(v)
      }
      for name in field.huggingFace { set(value, at: name.split(separator: ".").map(String.init), in: &json) }
    }
    var legacyScaling = JSONValue.null
    if let s = c.ropeScaling {
      let scaling: [(key: String, value: JSONValue)] = [
        ("rope_type", "llama3"), ("factor", JSONValue(s.factor)), ("low_freq_factor", JSONValue(s.lowFrequencyFactor)),
        ("high_freq_factor", JSONValue(s.highFrequencyFactor)),
        ("original_max_position_embeddings", JSONValue(s.originalContext)),
      ]
      for (key, value) in scaling { set(value, at: ["rope_parameters", key], in: &json) }
      legacyScaling = .object(JSONObject(scaling))
    }
    let constants: [(key: String, value: JSONValue)] = [
      ("rope_scaling", legacyScaling),
      ("tie_word_embeddings", .bool(c.tiedEmbeddings)),
      ("attention_bias", .bool(c.family.hasAttentionBias)),
      ("use_sliding_window", false),
      ("mlp_bias", false),
      ("attention_dropout", JSONValue(0.0)),
      ("initializer_range", JSONValue(0.02)),
      ("pretraining_tp", 1),
      ("use_cache", true),
      ("bos_token_id", special.bos.map(JSONValue.init) ?? .null),
      ("eos_token_id", special.eos.map(JSONValue.init) ?? .null),
      ("pad_token_id", special.pad.map(JSONValue.init) ?? .null),
      ("torch_dtype", .string(torchDType(dtype))),
      ("dtype", .string(torchDType(dtype))),
    ]
    for (key, value) in constants { set(value, at: [key], in: &json) }
    return Data(json.serialized([.pretty, .sortedKeys]))
  }

  /// Sets the member at `path` (keys of nested objects), creating objects on the way.
  static func set(_ value: JSONValue, at path: [String], in json: inout JSONValue) {
    guard let key = path.first else {
      json = value
      return
    }
    var object = json.objectValue ?? JSONObject()
    var child = object[key] ?? .null
    set(value, at: Array(path.dropFirst()), in: &child)
    object[key] = child
    json = .object(object)
  }

  /// The source folder's generation_config.json, else one with the special token ids.
  static func generationConfigJSON(source: ModelSource?, special: SpecialTokens) -> Data {
    if case .huggingFace(let dir) = source, let data = FileManager.default.contents(atPath: dir + "/generation_config.json") {
      return data
    }
    var json = JSONObject([("_from_model_config", true)])
    json["bos_token_id"] = special.bos.map(JSONValue.init)
    json["eos_token_id"] = special.eos.map(JSONValue.init)
    json["pad_token_id"] = special.pad.map(JSONValue.init)
    return Data(JSONValue.object(json).serialized([.pretty, .sortedKeys]))
  }
}
