import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// The reference of transformers on a real model from the same GGUF
/// (scripts/make_real_model_fixtures.py writes Fixtures/NAME-expected.safetensors): the logits
/// of a prompt and the greedy continuation lomo must reproduce.
struct RealModelReference {
  let expected: TinyLlamaParityTests.Expected

  init(_ name: String) throws {
    expected = TinyLlamaParityTests.Expected(file: try SafetensorsFile(
      path: TinyLlamaParityTests.fixtures.appendingPathComponent("\(name)-expected.safetensors").path))
  }

  /// The last position's logits and 256 sampled ids at every position, within `atol`.
  func checkLogits(_ model: LlamaModel, atol: Double = 1e-3, file: StaticString = #filePath, line: UInt = #line) throws {
    let prompt = try expected.ints("prompt_ids")
    let logits = model.logits(tokens: prompt, batch: 1, time: prompt.count)
    let v = model.config.vocabSize
    XCTAssertNil(allClose(Array(logits[(prompt.count - 1) * v..<prompt.count * v]), try expected.floats("last_logits"),
                          atol: atol, rtol: 0, "last-position logits"), file: file, line: line)
    let ids = try expected.ints("sampled_ids").map(Int.init)
    let sampled = (0..<prompt.count).flatMap { t in ids.map { logits[t * v + $0] } }
    XCTAssertNil(allClose(sampled, try expected.floats("sampled_logits"), atol: atol, rtol: 0, "all positions, sampled ids"),
                 file: file, line: line)
  }

  /// Greedy generation of 20 tokens gives transformers' tokens.
  func checkGreedy(_ model: LlamaModel, file: StaticString = #filePath, line: UInt = #line) throws {
    let generated = try model.generate(prompt: try expected.ints("prompt_ids"), maxNewTokens: 20)
    XCTAssertEqual(generated, try expected.ints("greedy_ids"), file: file, line: line)
  }
}
