import LomoCore
import LomoFormats
import XCTest

@testable import LomoModel

/// `LlamaConfig.fields` drives both directions: what the exporters write, the loaders read back.
final class LlamaConfigFieldsTests: XCTestCase {
  /// Every field distinct, so a name mapped to the wrong field shows.
  let config = LlamaConfig(
    layers: 3, hiddenSize: 96, intermediateSize: 200, heads: 6, kvHeads: 2, headDim: 24, vocabSize: 301,
    ropeTheta: 500_000, rmsEps: 1e-5, tiedEmbeddings: true, maxContext: 4096,
    ropeScaling: Llama3RopeScaling(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 8192))

  func testConfigJSONReadsBack() throws {
    let data = ModelExporter.configJSON(config, dtype: .bf16, special: .init(bos: 1, eos: 2, pad: nil))
    let root = JSONField(try JSONValue(parsing: data))
    XCTAssertEqual(try LlamaConfig(huggingFace: root, path: "config.json"), config)
    XCTAssertEqual(try root["rms_norm_eps"].number().text, "1e-05", "the shortest decimal of the Float")
    XCTAssertEqual(try root["rope_theta"].number().text, "500000", "integral floats without a fraction")
    XCTAssertEqual(try root["rope_parameters"]["rope_theta"].float(), 500_000, "every alias is written")
    XCTAssertEqual(try root["rope_scaling"]["factor"].float(), 8)
    XCTAssertNil(root["pad_token_id"].ifPresent)
  }

  func testConfigJSONFallbacks() throws {
    let minimal: JSONValue = [
      "num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "vocab_size": 10,
      "rope_parameters": ["rope_type": "default", "rope_theta": 20000],
    ]
    let c = try LlamaConfig(huggingFace: JSONField(minimal), path: "config.json")
    XCTAssertEqual(c, LlamaConfig(layers: 2, hiddenSize: 64, intermediateSize: 128, heads: 4, kvHeads: 4, headDim: 16,
                                  vocabSize: 10, ropeTheta: 20000, rmsEps: 1e-6, tiedEmbeddings: false, maxContext: 2048))
    var wrong = minimal
    ModelExporter.set(JSONValue("64"), at: ["hidden_size"], in: &wrong)
    XCTAssertThrowsError(try LlamaConfig(huggingFace: JSONField(wrong), path: "config.json")) { e in
      XCTAssertEqual("\(e)", "hidden_size: expected an integer, found a string")
    }
  }

  func testGGUFMetadataHasEveryFieldUnderTheArchitecturePrefix() {
    let metadata = Dictionary(ModelExporter.hyperparameterMetadata(config), uniquingKeysWith: { a, _ in a })
    XCTAssertEqual(metadata["llama.block_count"], .uint32(3))
    XCTAssertEqual(metadata["llama.attention.head_count_kv"], .uint32(2))
    XCTAssertEqual(metadata["llama.rope.dimension_count"], .uint32(24))
    XCTAssertEqual(metadata["llama.attention.key_length"], .uint32(24))
    XCTAssertEqual(metadata["llama.attention.value_length"], .uint32(24))
    XCTAssertEqual(metadata["llama.rope.freq_base"], .float32(500_000))
    XCTAssertEqual(metadata["llama.attention.layer_norm_rms_epsilon"], .float32(1e-5))
    for field in LlamaConfig.fields(for: config.family) {
      for name in field.gguf { XCTAssertNotNil(metadata[ModelFamily.llama.ggufKey(name)], name) }
    }
  }

  /// Gemma 3's own fields (window, pattern, local RoPE base, score scale) go out under
  /// `gemma3.*` and config.json's names and come back; the LLaMA fields' keys do not carry them.
  func testGemma3FieldsReadBackFromBothFormats() throws {
    let gemma = LlamaConfig(
      family: .gemma3, layers: 12, hiddenSize: 64, intermediateSize: 96, heads: 4, kvHeads: 1, headDim: 32,
      vocabSize: 300, ropeTheta: 1_000_000, rmsEps: 1e-6, tiedEmbeddings: true, maxContext: 128,
      slidingWindow: 16, slidingWindowPattern: 4, localRopeTheta: 20_000, queryPreAttentionScalar: 24)
    let root = JSONField(try JSONValue(parsing: ModelExporter.configJSON(gemma, dtype: .f32, special: .init(bos: 2, eos: 1, pad: 0))))
    XCTAssertEqual(try LlamaConfig(huggingFace: root, path: "config.json"), gemma)
    XCTAssertEqual(try root["rope_parameters"]["sliding_attention"]["rope_theta"].float(), 20_000)
    XCTAssertEqual(try root["layer_types"].array().map { try $0.string() }.filter { $0 == "full_attention" }.count, 3)
    let metadata = Dictionary(ModelExporter.hyperparameterMetadata(gemma), uniquingKeysWith: { a, _ in a })
    XCTAssertEqual(metadata["gemma3.attention.sliding_window"], .uint32(16))
    XCTAssertEqual(metadata["gemma3.rope.freq_base"], .float32(1_000_000))
    XCTAssertNil(metadata["llama.attention.sliding_window"])
    XCTAssertNil(Dictionary(ModelExporter.hyperparameterMetadata(config), uniquingKeysWith: { a, _ in a })["llama.attention.sliding_window"])
  }
}
