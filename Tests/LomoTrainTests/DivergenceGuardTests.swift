import Foundation
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

/// `DivergenceGuard`'s limit, and a trainer whose loss explodes stopping with
/// `TrainingError.lossExploded` at the first step past it.
final class DivergenceGuardTests: XCTestCase {
  func testTheLimitIsTheLargerOfTheUniformLossAndTwiceTheFirst() {
    var low = DivergenceGuard(vocabularySize: 49152)
    XCTAssertNil(low.limit)
    XCTAssertFalse(low.exploded(2.5), "the first loss only sets the limit")
    XCTAssertEqual(low.limit!, Float(log(49152.0)), accuracy: 1e-5)
    XCTAssertFalse(low.exploded(10.7))
    XCTAssertTrue(low.exploded(10.9))
    XCTAssertTrue(low.exploded(148_781))

    var high = DivergenceGuard(vocabularySize: 49152)
    XCTAssertFalse(high.exploded(.nan), "a non-finite loss is not recorded")
    XCTAssertFalse(high.exploded(6))
    XCTAssertEqual(high.limit, 12)
    XCTAssertFalse(high.exploded(11.9))
    XCTAssertTrue(high.exploded(12.1))
    XCTAssertFalse(high.exploded(.infinity), "non-finite losses are the step's to refuse")
  }

  /// SGD at growing rates on the tiny model: some rate must blow the loss up while it stays
  /// finite; that run stops at the first step past the limit, the step's event already sent.
  func testAnExplodingLossStopsTheRunAtTheFirstStepPastTheLimit() throws {
    var stopped = 0
    for lr: Float in [3, 10, 30, 100, 300] {
      var o = TinyModel.options(.sgd, steps: 12, lr: lr)
      o.warmup = .steps(0)
      let model = LlamaModel(parameters: try TestModels.tinyLlama(dtype: .f32))
      let trainer = try Trainer(model: model, examples: TinyModel.examples(count: 8), padToken: 0, options: o)
      var losses: [Float] = []
      do {
        try trainer.run { if case .step(let m) = $0 { losses.append(m.loss) } }
      } catch TrainingError.lossExploded(let step, let loss, let limit, let rate) {
        stopped += 1
        XCTAssertEqual(step, losses.count, "lr \(lr)")
        XCTAssertEqual(loss, losses.last, "lr \(lr)")
        XCTAssertEqual(rate, trainer.schedule.learningRate(atStep: step - 1), "the rate of that step")
        XCTAssertEqual(limit, max(Float(log(Double(model.config.vocabSize))), 2 * losses[0]), accuracy: 1e-5)
        XCTAssertGreaterThan(loss, limit)
        XCTAssertTrue(losses.dropLast().allSatisfy { $0 <= limit }, "stopped late: \(losses)")
        XCTAssertEqual(trainer.step, step)
      } catch TrainingError.nonFinite {
        continue
      }
    }
    XCTAssertGreaterThan(stopped, 0, "no rate made the loss explode")
  }
}
