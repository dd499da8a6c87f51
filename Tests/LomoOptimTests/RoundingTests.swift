import LomoCore
import LomoModel
import LomoOptim
import XCTest

/// 16-bit storage: an update smaller than one ulp is lost with round-to-nearest but kept in
/// expectation with stochastic rounding.
final class RoundingTests: XCTestCase {
  let n = 1 << 16

  /// A vector parameter of n ones and a gradient that asks for p += step (lr 1).
  func updateOnes(dtype: DType, rounding: RoundingMode, step: Float, repeats: Int = 1) -> [Float] {
    let p = ParameterTensor(id: .finalNorm, shape: [n], dtype: dtype)
    let ones = [Float](repeating: 1, count: n)
    ones.withUnsafeBufferPointer { p.assign($0.baseAddress!) }
    let lomo = LOMO(LOMO.Options(rounding: .always(rounding), seed: 5))
    var g = [Float](repeating: -step, count: n)
    for _ in 0..<repeats {
      for i in 0..<n { g[i] = -step }
      lomo.beginStep(StepSettings(learningRate: 1))
      g.withUnsafeMutableBufferPointer { lomo.update(p, gradient: $0.baseAddress!) }
      _ = lomo.finishStep()
    }
    return p.floats
  }

  func check(dtype: DType, ulp: Float) {
    // Nearest: a quarter ulp is rounded away, every time.
    XCTAssertEqual(Set(updateOnes(dtype: dtype, rounding: .nearest, step: ulp / 4, repeats: 4)), [1])

    // Stochastic: each element becomes 1 or 1 + ulp, with P(1 + ulp) = 1/4.
    let once = updateOnes(dtype: dtype, rounding: .stochastic, step: ulp / 4)
    XCTAssertEqual(Set(once), [1, 1 + ulp])
    let up = Double(once.filter { $0 > 1 }.count) / Double(n)
    // Binomial standard deviation √(0.25·0.75/65536) ≈ 0.0017: 6σ.
    XCTAssertEqual(up, 0.25, accuracy: 0.01, "\(dtype)")
    let mean = once.reduce(0.0) { $0 + Double($1) } / Double(n)
    XCTAssertEqual(mean, 1 + Double(ulp) / 4, accuracy: 0.01 * Double(ulp))

    // Four quarter-ulp steps move the expected value by one ulp.
    let four = updateOnes(dtype: dtype, rounding: .stochastic, step: ulp / 4, repeats: 4)
    let mean4 = four.reduce(0.0) { $0 + Double($1) } / Double(n)
    XCTAssertEqual(mean4, 1 + Double(ulp), accuracy: 0.02 * Double(ulp), "\(dtype)")
  }

  func testBF16StochasticRoundingKeepsQuarterUlpUpdatesInExpectation() {
    check(dtype: .bf16, ulp: 0x1p-7)
  }

  func testF16StochasticRoundingKeepsQuarterUlpUpdatesInExpectation() {
    check(dtype: .f16, ulp: 0x1p-10)
  }

  func testF16StochasticConversionIsUnbiasedAndExactOnRepresentableValues() {
    var rng = Xoshiro256(seed: 3)
    XCTAssertEqual(Float16(0.5, stochasticUniform24: 0xFF_FFFF), 0.5)
    XCTAssertEqual(Float16(-2, stochasticUniform24: 0), -2)
    XCTAssertEqual(Float16(1e6, stochasticUniform24: 0), .infinity)
    let x: Float = -0.3
    var sum = 0.0
    for _ in 0..<20000 {
      sum += Double(Float(Float16(x, stochasticUniform24: UInt32(truncatingIfNeeded: rng.next()) & 0xFF_FFFF)))
    }
    XCTAssertEqual(sum / 20000, Double(x), accuracy: 2e-5)
  }
}
