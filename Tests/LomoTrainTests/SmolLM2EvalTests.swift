import LomoModel
import LomoTokenizer
import LomoFormats
import LomoTrain
import LomoTestSupport
import XCTest

/// Zero-shot scoring of SmolLM2-135M on 20 RTE validation examples: it runs end to end and
/// gives an accuracy in [0, 1] (no assertion on the value).
final class SmolLM2EvalTests: XCTestCase {
  func testZeroShotRTESmoke() throws {
    guard let rte = superGLUEFile("RTE") else { throw XCTSkip("../shared/data/superglue is absent") }
    let source = try TestModels.defaultSource()
    let tokenizer = try Tokenizer(gguf: try GGUFFile(path: source.path))
    let model = LlamaModel(parameters: try source.loadParameters(dtype: .f32))
    let data = try Dataset.load(path: rte, task: .rte).sampled(20, seed: 0)
    var builder = ExampleBuilder(encoder: tokenizer, maxSequenceLength: 256,
                                 vocabularySize: model.config.vocabSize)
    let items = try data.evaluationItems(&builder)
    XCTAssertEqual(items.count, 20)
    // "Yes" and "No" are different token sequences, each ending in EOS.
    XCTAssertNotEqual(items[0].candidates[0], items[0].candidates[1])
    XCTAssertTrue(items.allSatisfy { $0.candidates.allSatisfy { $0.last == tokenizer.eosID } })
    let result = try Evaluator(model: model, options: EvaluationOptions(batchSize: 8)).evaluate(items)
    let accuracy = result.metrics(task: .rte).accuracy
    XCTAssertTrue((0...1).contains(accuracy))
    XCTAssertTrue(result.scores.allSatisfy { $0.allSatisfy { $0.isFinite && $0 > 0 } })
  }
}
