import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// The real default model (SmolLM2-135M-Instruct, Q4_1 GGUF dequantised to f32) against
/// transformers on the same file (scripts/make_real_model_fixtures.py).
final class SmolLM2Tests: XCTestCase {
  nonisolated(unsafe) static let model: LlamaModel? = {  // loaded once; XCTest runs tests serially
    guard let source = try? ModelSource.resolve(nil) else { return nil }
    return (try? source.loadParameters(dtype: .f32)).map { LlamaModel(parameters: $0) }
  }()

  func loadedModel() throws -> LlamaModel {
    guard let model = Self.model else {
      throw XCTSkip("SmolLM2 is not in \(ModelSource.cacheDirectory); run bash scripts/setup.sh")
    }
    return model
  }

  func testConfigFromGGUFMetadata() throws {
    let config = try loadedModel().config
    XCTAssertEqual(config, LlamaConfig(layers: 30, hiddenSize: 576, intermediateSize: 1536, heads: 9, kvHeads: 3,
                                       headDim: 64, vocabSize: 49152, ropeTheta: 100_000, rmsEps: 1e-5,
                                       tiedEmbeddings: true, maxContext: 8192))
    XCTAssertEqual(config.parameterCount, 134_515_008)
  }

  func testLogitsMatchTransformersWithin1e3() throws {
    try RealModelReference("smollm2").checkLogits(try loadedModel())
  }

  func testGreedyGenerationMatchesTransformers() throws {
    try RealModelReference("smollm2").checkGreedy(try loadedModel())
  }
}

/// Gemma 3 270M (the Q4_K_M GGUF scripts/setup.sh fetches, dequantised to f32) against
/// transformers on the same file: the second real model, with every Gemma difference.
final class Gemma3Tests: XCTestCase {
  nonisolated(unsafe) static let model: LlamaModel? = {  // loaded once; XCTest runs tests serially
    let path = (ModelSource.cacheDirectory as NSString).appendingPathComponent("gemma-3-270m-q4_k_m.gguf")
    return (try? ModelSource.gguf(path).loadParameters(dtype: .f32)).map { LlamaModel(parameters: $0) }
  }()

  func loadedModel() throws -> LlamaModel {
    guard let model = Self.model else {
      throw XCTSkip("Gemma 3 270M is not in \(ModelSource.cacheDirectory); run bash scripts/setup.sh")
    }
    return model
  }

  func testConfigFromGGUFMetadata() throws {
    let config = try loadedModel().config
    XCTAssertEqual(config, LlamaConfig(
      family: .gemma3, layers: 18, hiddenSize: 640, intermediateSize: 2048, heads: 4, kvHeads: 1, headDim: 256,
      vocabSize: 262_144, ropeTheta: 1_000_000, rmsEps: 1e-6, tiedEmbeddings: true, maxContext: 32768,
      slidingWindow: 512, slidingWindowPattern: 6, localRopeTheta: 10_000, queryPreAttentionScalar: 256))
  }

  func testLogitsMatchTransformersWithin1e3() throws {
    try RealModelReference("gemma3").checkLogits(try loadedModel())
  }

  func testGreedyGenerationMatchesTransformers() throws {
    try RealModelReference("gemma3").checkGreedy(try loadedModel())
  }
}
