import LomoCore
import LomoModel
import LomoOptim
import LomoTestSupport
import XCTest

/// f16 storage with dynamic loss scaling: overflow skips the step cleanly and halves the scale;
/// clean steps grow it after the window.
final class LossScalingTests: XCTestCase {
  func makeDriver(scale: Float, window: Int) -> (LomoStep, LlamaParameters) {
    let params = LlamaParameters.random(config: TinyModel.config(tied: true), dtype: .f16, seed: 11,
                                        std: 0.2)
    let model = LlamaModel(parameters: params)
    let driver = LomoStep(model: model, optimizer: LOMO(), clipping: .globalNorm(1),
                          lossScaler: DynamicLossScaler(initialScale: scale, window: window))
    return (driver, params)
  }

  func step(_ d: LomoStep) -> StepReport {
    d.step(tokens: TinyModel.tokens, targets: TinyModel.targets, batch: TinyModel.batch,
           time: TinyModel.time, learningRate: 0.1)
  }

  func testOverflowSkipsTheStepLeavesParametersUntouchedAndHalvesTheScale() {
    let huge = Float.greatestFiniteMagnitude
    let (driver, params) = makeDriver(scale: huge, window: 1000)
    let before = params.storageBits
    let r = step(driver)
    XCTAssertTrue(r.skipped)
    XCTAssertEqual(r.lossScale, huge)
    XCTAssertEqual(params.storageBits, before, "a skipped step must not touch any parameter")
    XCTAssertEqual(driver.lossScaler?.scale, huge / 2)
    XCTAssertEqual(driver.lossScaler?.overflows, 1)
  }

  func testScaleGrowsAfterTheWindowOfCleanSteps() {
    let (driver, params) = makeDriver(scale: 1024, window: 2)
    let before = params.storageBits
    let first = step(driver)
    XCTAssertFalse(first.skipped)
    XCTAssertEqual(driver.lossScaler?.scale, 1024)
    XCTAssertNotEqual(params.storageBits, before)
    _ = step(driver)
    XCTAssertEqual(driver.lossScaler?.scale, 2048)
    let third = step(driver)
    XCTAssertEqual(third.lossScale, 2048)
    XCTAssertLessThan(third.loss, first.loss)
  }

  /// A planted inf in one gradient (not only a huge scale) is caught by the measuring pass.
  func testPlantedInfinityIsDetected() {
    let acc = NormAccumulator(lossScale: 8)
    let p = ParameterTensor(id: .finalNorm, shape: [100], dtype: .f16)
    var g = [Float](repeating: 0.5, count: 100)
    g.withUnsafeMutableBufferPointer { acc.update(p, gradient: $0.baseAddress!) }
    XCTAssertFalse(acc.norm.hasNonFinite)
    XCTAssertEqual(acc.norm.total, (100 * 0.0625 * 0.0625).squareRoot(), accuracy: 1e-9)
    g[37] = .infinity
    g.withUnsafeMutableBufferPointer { acc.update(p, gradient: $0.baseAddress!) }
    XCTAssertTrue(acc.norm.hasNonFinite)
    acc.reset()
    g[37] = .nan
    g.withUnsafeMutableBufferPointer { acc.update(p, gradient: $0.baseAddress!) }
    XCTAssertTrue(acc.norm.hasNonFinite)
  }

  func testScalerArithmetic() {
    var s = DynamicLossScaler(initialScale: 4, factor: 2, window: 3, minScale: 1)
    s.update(overflow: true)
    XCTAssertEqual(s.scale, 2)
    s.update(overflow: true)
    s.update(overflow: true)
    XCTAssertEqual(s.scale, 1, "never below the minimum")
    for _ in 0..<2 { s.update(overflow: false) }
    XCTAssertEqual(s.scale, 1)
    s.update(overflow: false)
    XCTAssertEqual(s.scale, 2)
    s.update(overflow: false)
    s.update(overflow: true)
    for _ in 0..<2 { s.update(overflow: false) }
    XCTAssertEqual(s.scale, 1, "an overflow restarts the window")
  }
}
