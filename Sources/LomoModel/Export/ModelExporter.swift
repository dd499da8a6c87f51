import Foundation
import LomoCore
import LomoFormats

/// Saves a (fine-tuned) model so other tools can run it: a llama.cpp GGUF file, or a Hugging
/// Face folder (config.json, model.safetensors, generation_config.json, tokenizer files) that
/// transformers loads with `AutoModelForCausalLM.from_pretrained`.
///
/// Every file is written atomically (temporary name, fsync, rename); an existing destination
/// is replaced only with `overwrite: true`; on failure nothing the user had is changed and no
/// temporary file or folder is left behind. Errors are `FileWriteError` (naming the
/// destination), or the source's own `GGUFError` / `ModelLoadError` when the source model's
/// metadata cannot be read.
public enum ModelExporter {
  /// The tensor type of a GGUF export. Norm scales (1-D) always stay F32, as llama.cpp expects.
  public enum GGUFType: String, CaseIterable, Sendable, CustomStringConvertible {
    case f32, f16, bf16, q8_0

    /// The type of 2-D weights. Q8_0 falls back to F16 for a matrix whose rows are not a
    /// multiple of 32 (as llama.cpp's convert script does).
    public func tensorType(shape: [Int]) -> GGMLType {
      if shape.count < 2 { return .f32 }
      switch self {
      case .f32: return .f32
      case .f16: return .f16
      case .bf16: return .bf16
      case .q8_0: return shape.last! % 32 == 0 ? .q8_0 : .f16
      }
    }

    /// llama.cpp's `general.file_type` (enum llama_ftype): ALL_F32 0, MOSTLY_F16 1,
    /// MOSTLY_Q8_0 7, MOSTLY_BF16 32.
    public var fileType: UInt32 {
      switch self {
      case .f32: 0
      case .f16: 1
      case .q8_0: 7
      case .bf16: 32
      }
    }

    public var description: String { rawValue.uppercased() }
  }

  /// What an export wrote and what it could not provide.
  public struct Summary: Sendable, Equatable {
    /// Paths of the files written.
    public var files: [String] = []
    /// Parts of a complete model that the source did not have, e.g. "tokenizer.json".
    public var missing: [String] = []
  }

  /// Metadata keys the writer sets itself rather than copying from the source.
  static let managedKeys: Set<String> = ["general.alignment", "general.file_type", "general.quantization_version"]

  // MARK: - GGUF

  /// Writes `parameters` as a llama.cpp GGUF file of `type`.
  ///
  /// From a GGUF source, every `general.*` and `tokenizer.*` key (vocabulary, merges, token
  /// types, special token ids, chat template) is copied, so the output is a complete
  /// llama.cpp model; the hyperparameters (`llama.*`, `qwen2.*`: the family's architecture)
  /// always come from `parameters.config`. Q and K rows of a `llama` model are put into
  /// llama.cpp's interleaved order (`QKPermutation.apply`; the other families keep theirs).
  /// `name` (a fine-tune's) replaces `general.name`, and the source's name becomes
  /// `general.base_model.0.name`.
  @discardableResult
  public static func writeGGUF(
    _ parameters: LlamaParameters, to path: String, type: GGUFType, source: ModelSource? = nil,
    name: String? = nil, overwrite: Bool = false
  ) throws -> Summary {
    let config = parameters.config
    var writer = GGUFWriter()
    writer.set("general.architecture", .string(config.family.ggufArchitecture))
    var summary = Summary()
    switch source {
    case .gguf(let sourcePath):
      let file = try GGUFFile(path: sourcePath)
      for key in file.metadata.keys
      where (key.hasPrefix("general.") || key.hasPrefix("tokenizer.")) && !managedKeys.contains(key) {
        writer.set(key, try file.metadata.value(key))
      }
      if !file.metadata.contains(GGUFTokenizerKey.model) { summary.missing.append("tokenizer metadata (tokenizer.ggml.*)") }
    case .huggingFace(let dir):
      writer.set("general.name", .string((dir as NSString).lastPathComponent))
      summary.missing.append("tokenizer metadata (tokenizer.ggml.*): converting tokenizer.json to GGUF is not implemented")
    case nil:
      summary.missing.append("tokenizer metadata (tokenizer.ggml.*): no source model given")
    }
    if let name {
      if let base = writer.metadata.first(where: { $0.key == "general.name" })?.value {
        writer.set("general.base_model.count", .uint32(1))
        writer.set("general.base_model.0.name", base)
      }
      writer.set("general.name", .string(name))
    }
    writer.set("general.architecture", .string(config.family.ggufArchitecture))
    for (key, value) in hyperparameterMetadata(config) { writer.set(key, value) }
    writer.set("general.file_type", .uint32(type.fileType))
    writer.set("general.quantization_version", .uint32(2))

    if let factors = config.ropeFactors {  // LLaMA 3.1/3.2 RoPE scaling, as llama.cpp's converter stores it
      writer.addTensor(LlamaConfig.ropeFactorsTensor, shape: [factors.count], type: .f32, values: factors)
    }
    for tensor in parameters.all {
      let id = tensor.id
      let heads: Int? = switch id {
      case _ where !config.family.ggufPermutesQueryKey: nil
      case .layer(_, .query): config.heads
      case .layer(_, .key): config.kvHeads
      default: nil
      }
      let shape = tensor.shard.fullShape
      writer.addTensor(id.ggufName, shape: shape, type: type.tensorType(shape: shape)) { out in
        parameters.copyWholeAsFloat(tensor, into: out.baseAddress!)
        if id.isNorm && config.family.normWeightOffset != 0 {  // llama.cpp's Gemma norms hold 1 + w
          for i in out.indices { out[i] += config.family.normWeightOffset }
        }
        if let heads { try QKPermutation.apply(out, rows: shape[0], columns: shape[1], heads: heads) }
      }
    }
    try writer.write(to: path, overwrite: overwrite)
    summary.files = [path]
    return summary
  }

  /// The hyperparameters of `LlamaConfig.fields` under the family's keys (`llama.*`) as
  /// llama.cpp's convert script writes them (integers as UINT32, floats as FLOAT32).
  static func hyperparameterMetadata(_ c: LlamaConfig) -> [(String, GGUFValue)] {
    LlamaConfig.fields(for: c.family).flatMap { field in
      field.gguf.map { name -> (String, GGUFValue) in
        switch c.value(of: field) {
        case .int(let v): (c.family.ggufKey(name), .uint32(UInt32(v)))
        case .float(let v): (c.family.ggufKey(name), .float32(v))
        }
      }
    }
  }
}
