import LomoCore
import LomoModel
@testable import LomoOptim
import XCTest

/// The fused optimizers check every update before writing it: a non-finite gradient, or an
/// update whose result leaves the storage dtype's finite range, is refused, and that parameter
/// and every later one of the step stay bit-identical.
final class UpdateRefusalTests: XCTestCase {
  func tensor(_ id: ParameterID, _ values: [Float], dtype: DType) -> ParameterTensor {
    let t = ParameterTensor(id: id, shape: [values.count], dtype: dtype)
    values.withUnsafeBufferPointer { t.assign($0.baseAddress!) }
    return t
  }

  /// LOMO at `lr` over three tensors whose second gradient is `bad`: returns the outcome and
  /// whether each tensor changed.
  func step(lr: Float, weights: [Float], bad: [Float], dtype: DType) -> (StepOutcome, [Bool]) {
    let ids: [ParameterID] = [.finalNorm, .layer(1, .mlpNorm), .layer(0, .mlpNorm)]
    let tensors = ids.map { tensor($0, weights, dtype: dtype) }
    let before = tensors.map(\.floats)
    let lomo = LOMO()
    lomo.beginStep(StepSettings(learningRate: lr))
    for (i, t) in tensors.enumerated() {
      var g = i == 1 ? bad : [Float](repeating: 0.5, count: weights.count)
      g.withUnsafeMutableBufferPointer { lomo.update(t, gradient: $0.baseAddress!) }
    }
    return (lomo.finishStep(), zip(tensors, before).map { $0.floats != $1 })
  }

  func testANonFiniteGradientIsRefusedWithEveryLaterParameter() {
    for bad: Float in [.nan, .infinity, -.infinity] {
      let (outcome, changed) = step(lr: 0.1, weights: [1, 2, 3], bad: [0.5, bad, 0.5], dtype: .f32)
      XCTAssertEqual(outcome.refused, .layer(1, .mlpNorm), "\(bad)")
      XCTAssertEqual(outcome.appliedCount, 1)
      XCTAssertEqual(changed, [true, false, false], "\(bad)")
    }
  }

  func testAnUpdateBeyondTheStorageRangeIsRefused() {
    // f16: 60000 - 1 · (-10000) = 70000 > 65504, which would round to inf.
    let (f16, changed) = step(lr: 1, weights: [60000, 0], bad: [-10000, 0], dtype: .f16)
    XCTAssertEqual(f16.refused, .layer(1, .mlpNorm))
    XCTAssertEqual(changed, [true, false, false])
    // bf16's largest finite value (3.3895e38) is below f32's: + 1e36 still fits f32, not bf16.
    let (bf16, _) = step(lr: 1, weights: [DType.bf16.greatestFiniteStorableValue, 0], bad: [-1e36, 0],
                         dtype: .bf16)
    XCTAssertEqual(bf16.refused, .layer(1, .mlpNorm))
    let (f32, _) = step(lr: 1e30, weights: [3e38, 0], bad: [-1e9, 0], dtype: .f32)
    XCTAssertEqual(f32.refused, .layer(1, .mlpNorm))
  }

  func testAFiniteStepIsAppliedWhole() {
    let (outcome, changed) = step(lr: 0.1, weights: [1, 2, 3], bad: [0.5, 0.5, 0.5], dtype: .bf16)
    XCTAssertNil(outcome.refused)
    XCTAssertEqual(outcome.appliedCount, 3)
    XCTAssertEqual(changed, [true, true, true])
  }

  func testStaysFiniteMatchesTheStorageLimits() {
    let t = tensor(.finalNorm, [65024], dtype: .f16)
    var g: [Float] = [-480]
    XCTAssertTrue(UpdateKernel.staysFinite(SGDRule(learningRate: 1), t, gradient: &g), "65504 fits f16")
    g = [-481]
    XCTAssertFalse(UpdateKernel.staysFinite(SGDRule(learningRate: 1), t, gradient: &g))
  }
}
