import Foundation
import LomoCore
import LomoModel
import XCTest

/// The models the tests run on: the committed tiny LLaMA and real models in the setup
/// scripts' cache (`ModelSource.cacheDirectory`), which a test skips without.
public enum TestModels {
  /// Tests/LomoModelTests/Fixtures/tiny-llama: the tiny LLaMA (2 layers, C=64, V=256) as a
  /// Hugging Face folder (scripts/make_model_fixtures.py), read from the source tree so that every
  /// test target reaches it.
  public static var tinyLlamaDirectory: String { tinyModelDirectory("llama") }

  /// The Hugging Face folder of the tiny random model of `family` (llama, qwen2, qwen3, gemma3:
  /// scripts/make_model_fixtures.py).
  public static func tinyModelDirectory(_ family: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("LomoModelTests/Fixtures/tiny-\(family)").path
  }

  /// A copy of the tiny model of `family` in `directory`/tiny-FAMILY with a tokenizer.json
  /// (the tiny byte-level BPE of the tokenizer tests), so the CLI loads it; returns its path.
  /// For pre-tokenised data only: that tokenizer's ids go beyond the model's 256.
  public static func tinyLlamaFolder(in directory: URL, family: String = "llama") throws -> String {
    let folder = directory.appendingPathComponent("tiny-\(family)")
    try FileManager.default.copyItem(atPath: tinyModelDirectory(family), toPath: folder.path)
    let tokenizer = URL(fileURLWithPath: tinyLlamaDirectory).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("LomoTokenizerTests/Fixtures/tiny_bytelevel.json")
    try FileManager.default.copyItem(at: tokenizer, to: folder.appendingPathComponent("tokenizer.json"))
    return folder.path
  }

  /// The tiny LLaMA's parameters in `dtype`.
  public static func tinyLlama(dtype: DType = .f32, ledger: MemoryLedger = .shared) throws -> LlamaParameters {
    try ModelSource.huggingFace(tinyLlamaDirectory).loadParameters(dtype: dtype, ledger: ledger)
  }

  /// The path of `name` in the cache, or a skip naming the script that fetches it.
  public static func cachedFile(_ name: String, fetchedBy script: String = "setup.sh") throws -> String {
    let path = (ModelSource.cacheDirectory as NSString).appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: path) else {
      throw XCTSkip("\(path) absent: run `bash scripts/\(script)` (scripts/setup.sh runs it)")
    }
    return path
  }

  /// The default real model (SmolLM2-135M-Instruct, Q4_1 GGUF) in the cache, or a skip.
  public static func defaultSource() throws -> ModelSource {
    .gguf(try cachedFile(ModelSource.defaultFile))
  }
}
