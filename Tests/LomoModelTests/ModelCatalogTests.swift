import LomoCore
import LomoKernels
import LomoModel
import XCTest

final class ModelCatalogTests: XCTestCase {
  /// Parameter counts as the published checkpoints state them (transformers'
  /// `num_parameters()`), which pins every hyperparameter that shapes a tensor.
  func testParameterCountsMatchThePublishedModels() throws {
    let expected = [
      "smollm2-135m": 134_515_008, "smollm2-360m": 361_821_120, "qwen2.5-0.5b": 494_032_768,
      "qwen3-0.6b": 596_049_920, "tinyllama-1.1b": 1_100_048_384, "llama-3.2-1b": 1_235_814_400,
      "llama-7b": 6_738_415_616, "llama-13b": 13_015_864_320, "llama-30b": 32_528_943_616,
      "llama-65b": 65_285_660_672,
    ]
    XCTAssertEqual(Set(ModelCatalog.names), Set(expected.keys))
    for (name, count) in expected {
      let config = try XCTUnwrap(ModelCatalog.config(named: name))
      XCTAssertEqual(config.parameterCount, count, name)
      XCTAssertEqual(config.problems, [], name)
    }
    XCTAssertNotNil(ModelCatalog.config(named: "LLaMA-7B"))
    XCTAssertNil(ModelCatalog.config(named: "llama-70b"))
  }

  /// forwardFLOPs against a count by hand for a tiny config: per token 2·(weights) for the
  /// linear layers and LM head, per visible (query, key) pair 4·D per head for attention.
  func testForwardFLOPsCountsLinearLayersAndCausalAttention() {
    let c = LlamaConfig(layers: 2, hiddenSize: 8, intermediateSize: 12, heads: 2, kvHeads: 1,
                        vocabSize: 20, tiedEmbeddings: true)
    // q 8·8, k 8·4, v 8·4, o 8·8, gate/up/down 3·8·12 = 480 per layer; LM head 20·8.
    let weights = 2.0 * 480 + 160
    let batch = 3, time = 5
    let pairs = Double(batch) * 15  // 5·6/2 visible pairs per sequence
    let attention = 2.0 * 2 * pairs * 4 * 4  // layers · heads · pairs · D · 4
    XCTAssertEqual(c.forwardFLOPs(batch: batch, time: time), 2 * weights * Double(batch * time) + attention)
  }

  /// The parallel initialisation does not depend on the thread count, gives N(0, std²) weights
  /// and unit norm scales, and differs between seeds.
  func testRandomInitialisationIsDeterministicAndNormal() throws {
    let config = try XCTUnwrap(ModelCatalog.config(named: "smollm2-135m"))
    var small = config
    small.layers = 1
    small.vocabSize = 4096
    let a = LlamaParameters.random(config: small, dtype: .f32, seed: 5, std: 0.02)
    Runtime.setThreadCount(1)
    let b = LlamaParameters.random(config: small, dtype: .f32, seed: 5, std: 0.02)
    Runtime.setThreadCount(Threads.hardwareCount)
    let c = LlamaParameters.random(config: small, dtype: .f32, seed: 6, std: 0.02)
    for (x, y) in zip(a.all, b.all) { XCTAssertEqual(x.floats, y.floats, "\(x.id)") }
    XCTAssertNotEqual(a.embedding.floats, c.embedding.floats)
    let values = a.embedding.floats.map(Double.init)
    let mean = values.reduce(0, +) / Double(values.count)
    let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
    XCTAssertEqual(mean, 0, accuracy: 2e-4)
    XCTAssertEqual(std, 0.02, accuracy: 2e-4)
    XCTAssertTrue(a.layers[0].attentionNorm.floats.allSatisfy { $0 == 1 })
  }
}
