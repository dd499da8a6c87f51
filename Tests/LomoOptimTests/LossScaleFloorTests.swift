import LomoCore
import LomoModel
import LomoOptim
import LomoTestSupport
import XCTest

/// Dynamic loss scaling skips an overflowing step and halves the scale while the scale is
/// above its minimum; at the minimum halving cannot help, so the step fails instead of
/// skipping forever. Neither changes a weight.
final class LossScaleFloorTests: XCTestCase {
  func overflowingStep(minScale: Float) throws -> (StepReport, DynamicLossScaler?, Bool) {
    let parameters = try TestModels.tinyLlama()
    let before = parameters.storageBits
    // Gradients of 3e38 · loss: their squares overflow the measuring pass.
    let scaler = DynamicLossScaler(initialScale: 3e38, minScale: minScale)
    let step = LomoStep(model: LlamaModel(parameters: parameters), optimizer: LOMO(), lossScaler: scaler)
    let report = step.step(tokens: [1, 2, 3, 4], targets: [2, 3, 4, 5], batch: 1, time: 4, learningRate: 0.1)
    return (report, step.lossScaler, parameters.storageBits == before)
  }

  func testAboveTheMinimumTheStepIsSkipped() throws {
    let (report, scaler, unchanged) = try overflowingStep(minScale: 1)
    XCTAssertTrue(report.skipped)
    XCTAssertNil(report.failure)
    XCTAssertEqual(scaler?.scale, 1.5e38)
    XCTAssertTrue(unchanged)
  }

  func testAtTheMinimumTheStepFails() throws {
    let (report, scaler, unchanged) = try overflowingStep(minScale: 3e38)
    XCTAssertFalse(report.skipped)
    XCTAssertEqual(report.failure, NonFiniteStep(cause: .gradientNorm))
    XCTAssertEqual(scaler?.scale, 3e38)
    XCTAssertTrue(unchanged)
  }
}
