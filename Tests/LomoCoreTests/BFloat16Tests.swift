import LomoCore
import LomoTestSupport
import XCTest

final class BFloat16Tests: XCTestCase {
  func testRoundToNearestEvenOnTies() {
    // 1 + 2^-8 lies exactly between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1).
    XCTAssertEqual(BFloat16(Float(1) + 0x1p-8).float, 1)
    // 1 + 3*2^-8 lies between 1 + 2^-7 (odd mantissa) and 1 + 2^-6 (even): rounds up.
    XCTAssertEqual(BFloat16(Float(1) + 3 * 0x1p-8).float, 1 + 0x1p-6)
    XCTAssertEqual(BFloat16(Float(1) + 0x1p-8 + 0x1p-20).float, 1 + 0x1p-7)
  }

  func testSpecialValues() {
    XCTAssertTrue(BFloat16(Float.nan).float.isNaN)
    XCTAssertEqual(BFloat16(Float.infinity).float, .infinity)
    XCTAssertEqual(BFloat16(-Float.infinity).float, -.infinity)
    XCTAssertEqual(BFloat16(Float.greatestFiniteMagnitude).float, .infinity)
    XCTAssertEqual(BFloat16(Float(-0.0)).bitPattern, 0x8000)
    XCTAssertTrue(BFloat16(Float.nan, stochasticBits: 0xFFFF).float.isNaN)
  }

  func testExactValuesRoundTrip() {
    for v: Float in [0, 1, -2, 0.5, 3.140625, 0x1p-126, 65536] {
      XCTAssertEqual(BFloat16(v).float, v)
      XCTAssertEqual(BFloat16(v, stochasticBits: 0xFFFF).float, v)
    }
  }

  /// An update of a quarter ulp must survive in expectation under stochastic rounding,
  /// while round-to-nearest loses it every time.
  func testStochasticRoundingIsUnbiased() {
    let base: Float = 1  // ulp of bf16 at 1 is 2^-7
    let value = base + 0x1p-9  // a quarter ulp above 1
    var rng = Xoshiro256(seed: 7)
    let trials = 200_000
    var sum = 0.0
    for _ in 0..<trials {
      sum += Double(BFloat16(value, stochasticBits: UInt16(truncatingIfNeeded: rng.next())).float)
    }
    let mean = sum / Double(trials)
    // The standard error of the mean is sqrt(0.25*0.75)*2^-7/sqrt(200000) ≈ 7.6e-6.
    XCTAssertEqual(mean, Double(value), accuracy: 5e-5)
    XCTAssertEqual(BFloat16(value).float, base)
  }
}
