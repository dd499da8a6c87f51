import LomoCore
import LomoModel
import LomoOptim
import LomoTestSupport
import XCTest

/// A batch whose loss is inf or NaN (finite weights whose forward overflows) fails the step
/// before any gradient is handed over: the cause is the loss, and no weight changed.
final class NonFiniteLossTests: XCTestCase {
  func checkLossFailure(_ clipping: GradientClipping, file: StaticString = #filePath, line: UInt = #line) throws {
    let parameters = try TestModels.tinyLlama()
    // Finite, but the final hidden state is ~3e38 per channel, so the logits overflow.
    let huge = [Float](repeating: 3e38, count: parameters.finalNorm.count)
    huge.withUnsafeBufferPointer { parameters.finalNorm.assign($0.baseAddress!) }
    let before = parameters.storageBits
    let step = LomoStep(model: LlamaModel(parameters: parameters), optimizer: LOMO(), clipping: clipping)
    let report = step.step(tokens: [1, 2, 3, 4], targets: [2, 3, 4, 5], batch: 1, time: 4, learningRate: 0.1)
    XCTAssertFalse(report.loss.isFinite, file: file, line: line)
    XCTAssertEqual(report.failure, NonFiniteStep(cause: .loss), file: file, line: line)
    XCTAssertFalse(report.skipped, file: file, line: line)
    XCTAssertEqual(parameters.storageBits, before, "a weight changed", file: file, line: line)
  }

  func testOnePassStep() throws { try checkLossFailure(.none) }

  func testTwoPassClippingStep() throws { try checkLossFailure(.globalNorm(1)) }
}
