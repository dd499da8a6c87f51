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

  func testBulkConversionsAgreeWithScalarRounding() {
    let values = randomArray(1000, seed: 3, in: -70_000...70_000).floats
      + [0x1p-130, -0x1p-140, 65520, 1 + 0x1p-8, .infinity, -.infinity, .nan, Float(bitPattern: 0x7F80_0001)]
    let src = AlignedBuffer<Float>(values, category: .scratch)
    let bf = AlignedBuffer<BFloat16>(count: values.count, category: .scratch)
    let f16 = AlignedBuffer<Float16>(count: values.count, category: .scratch)
    let back = AlignedBuffer<Float>(count: values.count, category: .scratch)
    Convert.toBF16(bf.pointer, src.pointer, count: values.count)
    XCTAssertEqual(bf.array.map(\.bitPattern), values.map { BFloat16($0).bitPattern })
    Convert.toFloat(back.pointer, bf.pointer, count: values.count)
    XCTAssertEqual(back.array.map(\.bitPattern), values.map { BFloat16($0).float.bitPattern })
    Convert.toF16(f16.pointer, src.pointer, count: values.count)
    Convert.toFloat(back.pointer, f16.pointer, count: values.count)
    XCTAssertEqual(back.array.map(\.bitPattern), values.map { Float(Float16($0)).bitPattern })
    XCTAssertEqual(Float(Float16(Float(65520))), .infinity)

    var rng = Xoshiro256(seed: 1)
    Convert.toBF16Stochastic(bf.pointer, src.pointer, count: values.count, rng: &rng)
    for (v, r) in zip(values, bf.array) where v.isFinite {
      // Stochastic rounding lands on one of the two bf16 neighbours of v.
      let down = BFloat16(bitPattern: UInt16(v.bitPattern >> 16)).float
      let up = BFloat16(bitPattern: UInt16(v.bitPattern >> 16) &+ 1).float
      XCTAssertTrue(r.float == down || r.float == up, "\(v) -> \(r.float)")
    }
    keepAlive(src)
  }
}
