import LomoCore
import LomoKernels
import LomoTestSupport
import XCTest

/// `LMHeadSlices` against the fused `CrossEntropy.forwardBackward`: the LM head's gradient
/// assembled from vocabulary slices (of any size, the last one short) and ∂hidden accumulated
/// on each slice's first production equal the fused kernel's, masked rows included, with f32
/// and bf16 weights; asking for a slice again changes nothing.
final class LMHeadSlicesTests: XCTestCase {
  func check(bf16: Bool, sliceRows: Int, line: UInt = #line) {
    let n = 13, C = 24, V = 100
    var rng = Xoshiro256(seed: 7)
    let hidden = (0..<n * C).map { _ in Float.random(in: -1..<1, using: &rng) }
    let weight = (0..<V * C).map { _ in Float.random(in: -0.5..<0.5, using: &rng) }
    let targets: [Int32] = (0..<n).map { i in i % 4 == 3 ? -100 : Int32((i * 37) % V) }
    let w32 = AlignedBuffer(weight, category: .scratch), w16 = AlignedBuffer(weight.map { BFloat16($0) }, category: .scratch)
    let weights: WeightPointer = bf16 ? .bf16(w16.pointer) : .f32(w32.pointer)
    var fusedHidden = [Float](repeating: 0, count: n * C), fusedWeight = [Float](repeating: 0, count: V * C)
    let fused = CrossEntropy.forwardBackward(
      dHidden: &fusedHidden, dWeight: &fusedWeight, nll: nil, hidden: hidden, weight: weights,
      targets: targets, rows: n, channels: C, vocab: V, gradScale: nil, scratch: CrossEntropyScratch())

    var lse = [Float](repeating: .nan, count: n)
    let loss = CrossEntropy.forward(nll: nil, logSumExp: &lse, hidden: hidden, weight: weights, targets: targets,
                                    rows: n, channels: C, vocab: V, scratch: CrossEntropyScratch())
    XCTAssertEqual(loss, fused, line: line)
    var slicedHidden = [Float](repeating: 0, count: n * C), slicedWeight = [Float](repeating: .nan, count: V * C)
    let slices = LMHeadSlices(hidden: hidden, logSumExp: lse, targets: targets, weight: weights, rows: n,
                              channels: C, vocab: V, gradScale: nil, scratch: LMHeadSliceScratch())
    var slice = [Float](repeating: .nan, count: sliceRows * C)
    for start in stride(from: 0, to: V, by: sliceRows) {
      let rows = start..<min(V, start + sliceRows)
      slices.gradient(rows: rows, into: &slice, accumulateHidden: true)
      slices.gradient(rows: rows, into: &slice, accumulateHidden: false)  // again: the same, no ∂hidden
      slicedWeight.replaceSubrange(start * C..<rows.upperBound * C, with: slice[0..<rows.count * C])
    }
    slices.addHiddenGradient(into: &slicedHidden)
    let tolerance = bf16 ? 2e-3 : 1e-5
    XCTAssertNil(allClose(slicedWeight, fusedWeight, atol: tolerance, rtol: tolerance, "dW"), line: line)
    XCTAssertNil(allClose(slicedHidden, fusedHidden, atol: tolerance, rtol: tolerance, "dHidden"), line: line)
    for i in 0..<n where targets[i] < 0 {
      XCTAssertTrue(slicedHidden[i * C..<(i + 1) * C].allSatisfy { $0 == 0 }, "masked row \(i)", line: line)
    }
  }

  func testF32SlicesEqualTheFusedKernel() {
    check(bf16: false, sliceRows: 32)
    check(bf16: false, sliceRows: 7)
    check(bf16: false, sliceRows: 100)
  }

  func testBF16SlicesEqualTheFusedKernel() {
    check(bf16: true, sliceRows: 32)
  }
}
