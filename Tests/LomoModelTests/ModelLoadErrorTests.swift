import Foundation
import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// Hugging Face folders that do not fit lomo's model: every one gives a typed error naming the
/// file and the problem, before any tensor memory sized by the bad field is allocated.
final class ModelLoadErrorTests: XCTestCase {
  var scratch: TemporaryDirectory!
  var folder: URL { scratch.url }
  let original = TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-llama")

  override func setUpWithError() throws {
    scratch = try temporaryDirectory("model")
    try FileManager.default.copyItem(at: original.appendingPathComponent("model.safetensors"),
                                     to: folder.appendingPathComponent("model.safetensors"))
  }

  override func tearDownWithError() throws { scratch = nil }

  /// Writes config.json as the fixture's with `change` applied to its JSON object.
  func writeConfig(_ change: (inout [String: Any]) -> Void) throws {
    var json = try JSONSerialization.jsonObject(
      with: Data(contentsOf: original.appendingPathComponent("config.json"))) as! [String: Any]
    change(&json)
    try JSONSerialization.data(withJSONObject: json).write(to: folder.appendingPathComponent("config.json"))
  }

  func load() throws -> LlamaParameters {
    try ModelSource.resolve(folder.path).loadParameters(dtype: .f32)
  }

  func assertFails(_ label: String, containing text: String, _ change: @escaping (inout [String: Any]) -> Void) throws {
    try writeConfig(change)
    XCTAssertThrowsError(try load(), label) { error in
      XCTAssertTrue("\(error)".contains(text), "\(label): \(error)")
      XCTAssertTrue("\(error)".contains(self.folder.path), "\(label): error must name the file: \(error)")
    }
  }

  func testUnmodifiedCopyLoads() throws {
    try writeConfig { _ in }
    XCTAssertEqual(try load().config.layers, 2)
  }

  func testConfigProblemsAreNamed() throws {
    try assertFails("other architecture", containing: "model_type 'gpt2'") { $0["model_type"] = "gpt2" }
    try assertFails("missing key", containing: "hidden_size") { $0.removeValue(forKey: "hidden_size") }
    try assertFails("wrong type", containing: "num_hidden_layers") { $0["num_hidden_layers"] = "two" }
    try assertFails("heads not a multiple", containing: "multiple of num_key_value_heads") { $0["num_key_value_heads"] = 3 }
    try assertFails("biases", containing: "biases") { $0["attention_bias"] = true }
    try assertFails("sliding window", containing: "sliding-window") { $0["sliding_window"] = 16 }
    try assertFails("unknown rope scaling", containing: "RoPE scaling 'yarn'") {
      $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0]
    }
  }

  func testWeightsThatDoNotFitTheConfigAreNamed() throws {
    try assertFails("shape mismatch", containing: "the config implies [256, 32]") { $0["hidden_size"] = 32; $0["head_dim"] = 8 }
    try assertFails("missing layer", containing: "model.layers.2.") { $0["num_hidden_layers"] = 3 }
    try writeConfig { _ in }
    try FileManager.default.removeItem(at: folder.appendingPathComponent("model.safetensors"))
    XCTAssertThrowsError(try load()) { error in
      XCTAssertTrue(error is SafetensorsError, "\(error)")
    }
  }

  /// Renames the stored `lm_head.weight` to `name` (same length) in the copied safetensors header.
  func renameLMHead(to name: String) throws {
    let url = folder.appendingPathComponent("model.safetensors")
    var bytes = Array(try Data(contentsOf: url))
    let old = Array("\"lm_head.weight\"".utf8), new = Array("\"\(name)\"".utf8)
    let at = try XCTUnwrap((0...bytes.count - old.count).first { bytes[$0..<$0 + old.count].elementsEqual(old) })
    bytes.replaceSubrange(at..<at + old.count, with: new)
    try Data(bytes).write(to: url)
  }

  func testEveryTensorIsAccountedFor() throws {
    try writeConfig { $0["tie_word_embeddings"] = true }
    XCTAssertTrue(try load().config.tiedEmbeddings, "a tied model leaves a stored lm_head.weight unread")
    try renameLMHead(to: "lm_hexd.weight")
    try assertFails("unknown tensor", containing: "tensor 'lm_hexd.weight' is not part of a LLaMA model") {
      $0["tie_word_embeddings"] = true
    }
    try assertFails("untied head missing", containing: "no tensor 'lm_head.weight'") { _ in }
  }

  func testLlama3RopeScalingIsRead() throws {
    try writeConfig {
      $0["rope_parameters"] = ["rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192]
    }
    let config = try load().config
    XCTAssertEqual(config.ropeScaling, Llama3RopeScaling(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 8192))
    XCTAssertEqual(config.ropeTheta, 500_000)
    // Head dim 16: wavelengths 2π·500000^(2i/16); the longest exceed 8192 and are divided by 8.
    let plain = (0..<8).map { 1 / Float(pow(500_000.0, Double(2 * $0) / 16)) }
    XCTAssertEqual(config.ropeInverseFrequencies[0], plain[0])
    XCTAssertEqual(config.ropeInverseFrequencies[7], plain[7] / 8, accuracy: 1e-12)
  }
}
