import Foundation
import LomoCore
import LomoModel
import LomoTrain
import XCTest

/// Scoring on the tiny random LLaMA fixture (vocabulary 256, context 64), items built from ids.
final class EvaluatorTests: XCTestCase {
  static let tinyLlama = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../LomoModelTests/Fixtures/tiny-llama").standardized.path

  func tinyModel() throws -> LlamaModel {
    LlamaModel(parameters: try ModelSource.huggingFace(Self.tinyLlama).loadParameters(dtype: .f32))
  }

  /// Summed NLL of `candidate` given `prompt`, one sequence at a time.
  func directNLL(_ model: LlamaModel, prompt: [Int32], candidate: [Int32]) -> Double {
    let e = TokenizedExample(prompt: prompt, completion: candidate)
    let r = model.loss(tokens: e.tokens, targets: e.targets, batch: 1, time: e.tokens.count)
    XCTAssertEqual(r.tokenCount, candidate.count)
    return r.lossSum
  }

  let items = [
    MultipleChoiceItem(prompt: [1, 17, 33, 200, 5], candidates: [[40, 2], [41, 42, 43, 2], [99, 2]], label: 1),
    MultipleChoiceItem(prompt: [1, 8], candidates: [[7, 7, 2], [250, 2]], label: 0, group: "q"),
    MultipleChoiceItem(prompt: [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], candidates: [[60, 2], [61, 2]], label: 1),
  ]

  func testScoresEqualDirectLossAndArgminPicks() throws {
    let model = try tinyModel()
    for batchSize in [1, 3, 7] {
      var events: [EvaluationProgress] = []
      let result = try Evaluator(model: model, options: EvaluationOptions(batchSize: batchSize))
        .evaluate(items) { events.append($0) }
      for (i, item) in items.enumerated() {
        for (c, candidate) in item.candidates.enumerated() {
          let direct = directNLL(model, prompt: item.prompt, candidate: candidate)
          XCTAssertEqual(result.scores[i][c], direct, accuracy: 1e-4 * max(1, abs(direct)),
                         "item \(i) candidate \(c) batch \(batchSize)")
        }
        let s = result.scores[i]
        XCTAssertEqual(result.predictions[i], s.indices.min { s[$0] < s[$1] })
      }
      XCTAssertEqual(result.labels, [1, 0, 1])
      XCTAssertEqual(events.last?.sequencesDone, 7)
      XCTAssertEqual(events.count, (7 + batchSize - 1) / batchSize)
      // Each prompt but its last token runs once, then each candidate after that token.
      XCTAssertEqual(result.tokens, items.map { i in i.prompt.count - 1 + i.candidates.map(\.count).reduce(0, +) }.reduce(0, +))
    }
  }

  func testLengthNormalisationDividesByCandidateTokens() throws {
    let model = try tinyModel()
    let sum = try Evaluator(model: model).evaluate(items)
    let mean = try Evaluator(model: model, options: EvaluationOptions(lengthNormalize: true)).evaluate(items)
    for (i, item) in items.enumerated() {
      for (c, candidate) in item.candidates.enumerated() {
        XCTAssertEqual(mean.scores[i][c], sum.scores[i][c] / Double(candidate.count), accuracy: 1e-9)
      }
    }
  }

  func testArgminPicksAPlantedAnswer() throws {
    // The candidate the model itself finds likeliest wins; make it the label and check accuracy 1.
    let model = try tinyModel()
    let scored = try Evaluator(model: model).evaluate(items)
    let planted = zip(items, scored.scores).map { item, s in
      var it = item
      it.label = s.indices.min { s[$0] < s[$1] }!
      return it
    }
    let r = try Evaluator(model: model).evaluate(planted)
    XCTAssertEqual(r.metrics(task: nil).accuracy, 1)
    var flipped = planted
    flipped[0].label = (planted[0].label + 1) % planted[0].candidates.count
    XCTAssertEqual(try Evaluator(model: model).evaluate(flipped).metrics(task: nil).accuracy, 2.0 / 3.0, accuracy: 1e-12)
  }

  func testInvalidItemsAreErrorsNotTraps() throws {
    let model = try tinyModel()
    let e = Evaluator(model: model)
    XCTAssertThrowsError(try e.evaluate([MultipleChoiceItem(prompt: [1], candidates: [[300]], label: 0)])) {
      XCTAssertEqual($0 as? EvaluationError, .tokenOutOfRange(item: 0, token: 300, vocabularySize: 256))
    }
    XCTAssertThrowsError(try e.evaluate([MultipleChoiceItem(prompt: Array(repeating: 1, count: 70), candidates: [[2]], label: 0)])) {
      XCTAssertEqual($0 as? EvaluationError, .sequenceTooLong(item: 0, length: 70, maxContext: 64))
    }
    XCTAssertThrowsError(try e.evaluate([MultipleChoiceItem(prompt: [1], candidates: [[2]], label: 3)]))
  }

  func testReportIsWrittenAtomicallyAsJSON() throws {
    let result = EvaluationResult(scores: [[1, 2], [3, 1]], predictions: [0, 1], labels: [0, 0], groups: [nil, nil],
                                  tokens: 10, seconds: 2)
    let setup = EvaluationReport.Setup(model: "m", data: "d", format: .superglue, task: .rte,
                                       maxSequenceLength: 512, truncated: 0, limit: nil, seed: 0)
    let report = EvaluationReport(setup, result: result, lengthNormalized: false)
    let path = try writeJSONL([], name: "report.json")
    try report.write(to: path)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let back = try JSONField(JSONValue(parsing: data)).decode(EvaluationReport.self)
    XCTAssertEqual(back, report)
    XCTAssertEqual(try JSONDecoder().decode(EvaluationReport.self, from: data), report, "other JSON readers agree")
    XCTAssertEqual(back.metrics?.accuracy, 0.5)
    XCTAssertEqual(back.scores, [[1, 2], [3, 1]], "every candidate's score")
    XCTAssertNil(back.loss)
    XCTAssertEqual(back.tokensPerSecond, 5)
    let loss = EvaluationReport(setup, examples: 3, loss: log(4), scoredTokens: 12, tokens: 30, seconds: 3)
    XCTAssertEqual(loss.perplexity!, 4, accuracy: 1e-12)
    XCTAssertNil(loss.metrics)
    XCTAssertNil(loss.predictions)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
    XCTAssertEqual(leftovers, ["report.json"])
  }
}
