import LomoModel
import LomoTestSupport
import LomoTrain
import XCTest

/// The evaluation `lomo train` runs on data without choices: the mean loss over every trained
/// token, whatever the batching, reported as minus the loss.
final class TrainingEvaluationTests: XCTestCase {
  func testMeanLossIsPerTokenWhateverTheBatching() throws {
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    let examples = TinyModel.examples(count: 7)
    let single = Evaluator(model: model, options: EvaluationOptions(batchSize: 1)).meanLoss(examples)
    let whole = Evaluator(model: model, options: EvaluationOptions(batchSize: 7)).meanLoss(examples)
    XCTAssertEqual(single.tokens, examples.map(\.trainedTokenCount).reduce(0, +))
    XCTAssertEqual(whole.tokens, single.tokens)
    XCTAssertEqual(whole.loss, single.loss, accuracy: 1e-5 * single.loss)
    // A mean of per-example means would differ: the examples have different lengths.
    let meanOfMeans = examples.map {
      Double(model.loss(tokens: $0.tokens, targets: $0.targets, batch: 1, time: $0.tokens.count).meanLoss)
    }.reduce(0, +) / Double(examples.count)
    XCTAssertNotEqual(single.loss, meanOfMeans, accuracy: 1e-6)

    let evaluation = TrainingEvaluation(items: .loss(examples), name: "input-ids")
    XCTAssertNil(evaluation.last)
    let score = try evaluation.score(model, options: EvaluationOptions(batchSize: 3))
    XCTAssertEqual(score.value, -single.loss, accuracy: 1e-5 * single.loss)
    XCTAssertEqual(evaluation.last?.value, score.value)
    XCTAssertNil(score.metrics)
    XCTAssertEqual(evaluation.describe(score.value), String(format: "eval loss %.4f", single.loss))
    XCTAssertEqual(evaluation.description, "input-ids, 7 examples, scored by mean loss")
  }

  func testChoicesAreScoredByAccuracy() throws {
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    let items = (0..<4).map { i in
      MultipleChoiceItem(prompt: [Int32(10 + i), 20, 30], candidates: [[40], [Int32(50 + i)]], label: i % 2)
    }
    let evaluation = TrainingEvaluation(items: .choices(items, task: nil), name: "choices")
    let score = try evaluation.score(model, options: EvaluationOptions(batchSize: 2))
    let direct = try Evaluator(model: model, options: EvaluationOptions(batchSize: 2)).evaluate(items)
    XCTAssertEqual(score.value, direct.metrics(task: nil).accuracy)
    XCTAssertEqual(evaluation.maxSequenceLength, 3)
    XCTAssertTrue(evaluation.describe(score.value).hasPrefix("eval accuracy "))
  }
}
