import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// The real default model (SmolLM2-135M-Instruct, Q4_1 GGUF dequantised to f32) against
/// transformers on the same file (scripts/make_smollm2_fixtures.py).
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

  func expected() throws -> TinyLlamaParityTests.Expected {
    TinyLlamaParityTests.Expected(file: try SafetensorsFile(
      path: TinyLlamaParityTests.fixtures.appendingPathComponent("smollm2-expected.safetensors").path))
  }

  func testConfigFromGGUFMetadata() throws {
    let config = try loadedModel().config
    XCTAssertEqual(config, LlamaConfig(layers: 30, hiddenSize: 576, intermediateSize: 1536, heads: 9, kvHeads: 3,
                                       headDim: 64, vocabSize: 49152, ropeTheta: 100_000, rmsEps: 1e-5,
                                       tiedEmbeddings: true, maxContext: 8192))
    XCTAssertEqual(config.parameterCount, 134_515_008)
  }

  func testLogitsMatchTransformersWithin1e3() throws {
    let model = try loadedModel()
    let e = try expected()
    let prompt = try e.ints("prompt_ids")
    let logits = model.logits(tokens: prompt, batch: 1, time: prompt.count)
    let v = model.config.vocabSize
    XCTAssertNil(allClose(Array(logits[(prompt.count - 1) * v..<prompt.count * v]), try e.floats("last_logits"),
                          atol: 1e-3, rtol: 0, "last-position logits"))
    let ids = try e.ints("sampled_ids").map(Int.init)
    let sampled = (0..<prompt.count).flatMap { t in ids.map { logits[t * v + $0] } }
    XCTAssertNil(allClose(sampled, try e.floats("sampled_logits"), atol: 1e-3, rtol: 0, "all positions, sampled ids"))
  }

  func testGreedyGenerationMatchesTransformers() throws {
    let model = try loadedModel()
    let e = try expected()
    let generated = try model.generate(prompt: try e.ints("prompt_ids"), maxNewTokens: 20)
    XCTAssertEqual(generated, try e.ints("greedy_ids"))
  }
}
