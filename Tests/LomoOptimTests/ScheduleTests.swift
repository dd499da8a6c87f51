import LomoOptim
import XCTest

/// Multipliers against transformers 5.23's get_{linear,cosine,constant}_schedule_with_warmup
/// (values printed by Python's formulas).
final class ScheduleTests: XCTestCase {
  func testLinearCosineConstantMatchTransformers() {
    let steps = [0, 1, 2, 3, 4, 6, 9, 10, 12]
    let linear = [0.0, 0.3333333333333333, 0.6666666666666666, 1.0, 0.8571428571428571,
                  0.5714285714285714, 0.14285714285714285, 0.0, 0.0]
    let cosine = [0.0, 0.3333333333333333, 0.6666666666666666, 1.0, 0.9504844339512095,
                  0.6112604669781572, 0.04951556604879048, 0.0, 0.18825509907063315]
    for (shape, expected) in [(LearningRateSchedule.Shape.linear, linear), (.cosine, cosine),
                              (.constant, [0, 1.0 / 3, 2.0 / 3, 1, 1, 1, 1, 1, 1])] {
      let s = LearningRateSchedule(peak: 0.03, shape: shape, totalSteps: 10, warmup: .steps(3))
      for (step, e) in zip(steps, expected) {
        XCTAssertEqual(s.multiplier(atStep: step), e, accuracy: 1e-15, "\(shape) step \(step)")
        XCTAssertEqual(s.learningRate(atStep: step), Float(0.03 * e), accuracy: 1e-9)
      }
    }
  }

  func testWarmupRatioRoundsUpLikeTransformers() {
    let s = LearningRateSchedule(peak: 1, shape: .cosine, totalSteps: 25, warmup: .ratio(0.1))
    XCTAssertEqual(s.warmupSteps, 3)
    let expected = [(0, 0.0), (2, 0.6666666666666666), (3, 1.0), (7, 0.9206267664155906),
                    (24, 0.005089279059533658)]
    for (step, e) in expected {
      XCTAssertEqual(s.multiplier(atStep: step), e, accuracy: 1e-15, "step \(step)")
    }
    XCTAssertEqual(LearningRateSchedule.constant(0.5).learningRate(atStep: 100), 0.5)
  }
}
