import Foundation
import LomoCore
import LomoKernels
import LomoTestSupport
import XCTest

final class VectorMathTests: XCTestCase {
  func testVectorExpIsWithinTwoUlpOverTheClampedRange() {
    var worstUlps: Float = 0
    var x: Float = -87
    while x < 88.3 {
      let expected = Float(Foundation.exp(Double(x)))
      let ulps = abs(VectorMath.exp(x) - expected) / expected.ulp
      worstUlps = max(worstUlps, ulps)
      x += 0.0137
    }
    XCTAssertLessThanOrEqual(worstUlps, 2)
    XCTAssertEqual(VectorMath.exp(0), 1)
    XCTAssertLessThan(VectorMath.exp(-200), 1e-37)
  }

  func testDotHandlesTailsAndMatchesDouble() {
    for n in [0, 1, 15, 16, 17, 33, 100] {
      let a = randomArray(n, seed: UInt64(n)), b = randomArray(n, seed: UInt64(n + 1000))
      let expected = dot(a, b)
      let got = a.floats.withUnsafeBufferPointer { pa in
        b.floats.withUnsafeBufferPointer { pb in VectorMath.dot(pa.baseAddress!, pb.baseAddress!, n) }
      }
      XCTAssertEqual(Double(got), expected, accuracy: 1e-5, "n=\(n)")
    }
  }
}
