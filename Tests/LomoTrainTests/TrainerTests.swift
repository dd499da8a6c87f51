import Foundation
import LomoCore
import LomoModel
import LomoOptim
import LomoTrain
import LomoTestSupport
import XCTest

final class TrainerTests: XCTestCase {
  func makeTrainer(_ options: TrainingOptions, examples: [TokenizedExample] = TinyModel.examples(count: 10),
                   ledger: MemoryLedger = .shared) throws -> Trainer {
    let model = LlamaModel(parameters: try TestModels.tinyLlama(dtype: options.dtype, ledger: ledger),
                           ledger: ledger)
    return try Trainer(model: model, examples: examples, padToken: 0, options: options, ledger: ledger)
  }

  func testScheduleIsAppliedPerStep() throws {
    var o = TinyModel.options(steps: 7)
    o.warmup = .steps(2)
    o.schedule = .cosine
    let trainer = try makeTrainer(o)
    var lrs: [Float] = []
    var steps: [Int] = []
    try trainer.run { event in
      if case .step(let m) = event {
        lrs.append(m.learningRate)
        steps.append(m.step)
      }
    }
    let expected = (0..<7).map { trainer.schedule.learningRate(atStep: $0) }
    XCTAssertEqual(steps, Array(1...7))
    XCTAssertEqual(lrs, expected)
    XCTAssertEqual(lrs[0], 0)
    XCTAssertEqual(lrs[2], o.learningRate)
    XCTAssertLessThan(lrs[6], lrs[3])
  }

  func testEpochsCoverTheDataAndTotalStepsFollowTheLength() throws {
    var o = TinyModel.options()
    o.length = .epochs(2)
    let trainer = try makeTrainer(o)  // 10 examples, batch 4: 3 batches per epoch
    var epochs: [Int] = []
    var meanSpeed: Double?
    let summary = try trainer.run { event in
      guard case .step(let m) = event else { return }
      epochs.append(m.epoch)
      meanSpeed = m.meanTokensPerSecond
    }
    XCTAssertEqual(meanSpeed, summary.tokensPerSecond, "the last step's running mean is the summary's speed")
    XCTAssertEqual(trainer.totalSteps, 6)
    XCTAssertEqual(epochs, [0, 0, 0, 1, 1, 1])
    XCTAssertEqual(summary.steps, 6)
    XCTAssertFalse(summary.interrupted)
    XCTAssertEqual(summary.tokens, 2 * TinyModel.examples(count: 10).reduce(0) { $0 + $1.tokens.count })
  }

  func testLossDecreasesOnTheTinyModel() throws {
    var o = TinyModel.options(steps: 60, batchSize: 8, lr: 0.1)
    o.clipGradNorm = 1
    let trainer = try makeTrainer(o, examples: TinyModel.examples(count: 32))
    var losses: [Float] = []
    var norms: [Double?] = []
    let summary = try trainer.run { event in
      if case .step(let m) = event {
        losses.append(m.loss)
        norms.append(m.gradientNorm)
      }
    }
    let first = losses.prefix(8).reduce(0, +) / 8, last = losses.suffix(8).reduce(0, +) / 8
    XCTAssertLessThan(last, first * 0.8, "losses: \(losses)")
    XCTAssertTrue(norms.allSatisfy { $0 != nil }, "clipping measures the norm every step")
    XCTAssertEqual(summary.finalLoss, losses.last)
    XCTAssertGreaterThan(summary.tokensPerSecond, 0)
    XCTAssertGreaterThan(summary.peakMemory[.parameters] ?? 0, 0)
  }

  func testEvaluationEveryNStepsTracksTheBest() throws {
    var o = TinyModel.options(steps: 6)
    o.evalEvery = 2
    let trainer = try makeTrainer(o)
    let scores = [0.6, 0.5, 0.7, 0.6]
    var calls = 0
    trainer.evaluate = { _ in
      defer { calls += 1 }
      return scores[calls]
    }
    var results: [PeriodicEvaluation] = []
    let summary = try trainer.run { if case .evaluation(let r) = $0 { results.append(r) } }
    XCTAssertEqual(results.map(\.step), [0, 2, 4, 6], "the starting model is evaluated first")
    XCTAssertEqual(results.map(\.isBest), [true, false, true, false])
    XCTAssertEqual(summary.bestScore, 0.7)
    XCTAssertEqual(trainer.bestStep, 4)
  }

  /// When no step beats the starting model, the best is step 0.
  func testTheStartingModelCanBeTheBest() throws {
    var o = TinyModel.options(steps: 4)
    o.evalEvery = 2
    let trainer = try makeTrainer(o)
    var scores = [0.9, 0.2, 0.3]
    trainer.evaluate = { _ in scores.removeFirst() }
    try trainer.run()
    XCTAssertEqual(trainer.bestScore, 0.9)
    XCTAssertEqual(trainer.bestStep, 0)
  }

  func testMetricsFileHasExactlyTheDocumentedKeysPerStep() throws {
    let scratch = try temporaryDirectory("train")
    let dir = scratch.url
    let path = dir.appendingPathComponent("metrics.jsonl").path
    let writer = try MetricsWriter(path: path)
    let trainer = try makeTrainer(TinyModel.options(steps: 3))
    try trainer.run { event in
      guard case .step(let m) = event else { return }
      do { try writer.write(m) } catch { XCTFail("\(error)") }
    }
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(lines.count, 3)
    for (i, line) in lines.enumerated() {
      let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      XCTAssertEqual(Set(object.keys),
                     ["step", "epoch", "loss", "lr", "grad_norm", "tokens_per_s", "rss_bytes",
                      "loss_scale", "eta"])
      XCTAssertEqual(object["step"] as? Int, i + 1)
      XCTAssertTrue(object["loss_scale"] is NSNull, "no loss scaling in f32")
      XCTAssertNotNil(object["loss"] as? Double)
    }
  }

  func testOptionsMustMatchTheModelDType() throws {
    let model = LlamaModel(parameters: try TestModels.tinyLlama(dtype: .f32))
    XCTAssertThrowsError(try Trainer(model: model, examples: TinyModel.examples(count: 4), padToken: 0,
                                     options: TinyModel.options(dtype: .bf16)))
  }
}
