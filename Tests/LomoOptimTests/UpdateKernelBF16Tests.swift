import LomoCore
import LomoModel
@testable import LomoOptim
import LomoTestSupport
import XCTest

/// The bf16 path of `UpdateKernel` (C conversion loops per block) against the update computed
/// element by element and rounded with the scalar `BFloat16` initialisers: identical bits, for
/// both rounding modes, on a size that leaves a ragged last block and chunk, with values that
/// exercise NaN, infinities and subnormals.
final class UpdateKernelBF16Tests: XCTestCase {
  func testFastPathMatchesTheGenericPathBitForBit() {
    let count = 3 * UpdateKernel.block + 37
    var rng = Xoshiro256(seed: 3)
    var start = (0..<count).map { _ in Float.random(in: -2..<2, using: &rng) }
    start[5] = .nan
    start[6] = .infinity
    start[7] = 0x1p-130
    start[count - 1] = -.infinity
    let gradient = (0..<count).map { _ in Float.random(in: -1..<1, using: &rng) }
    let rule = SGDRule(learningRate: 0.01, weightDecay: 0.1, clipValue: 0.5, clipCoefficient: 0.7)

    for rounding in RoundingMode.allCases {
      let p = ParameterTensor(id: .finalNorm, shape: [count], dtype: .bf16)
      start.withUnsafeBufferPointer { p.assign($0.baseAddress!) }
      let before = p.floats
      gradient.withUnsafeBufferPointer {
        UpdateKernel.apply(rule, to: p, gradient: $0.baseAddress!, rounding: rounding, seed: 11)
      }
      XCTAssertEqual(p.storageBits, reference(before, gradient, rule, rounding: rounding, seed: 11), "\(rounding)")
    }
  }

  /// The update of `UpdateKernel.apply`'s contract, rounded by the scalar definitions with the
  /// block's draws (draw d of block b for its elements 4d..<4d+4, low 16 bits first).
  func reference(_ p: [Float], _ g: [Float], _ rule: SGDRule, rounding: RoundingMode, seed: UInt64)
    -> [UInt32]
  {
    let block = UpdateKernel.block
    var rng = Xoshiro256(seed: 0)
    var bits: UInt64 = 0
    return (0..<p.count).map { i in
      var x = min(max(g[i], -rule.clipValue), rule.clipValue) * rule.clipCoefficient
      x = (p[i] * (1 - rule.learningRate * rule.weightDecay)).addingProduct(-rule.learningRate, x)
      guard rounding == .stochastic else { return UInt32(BFloat16(x).bitPattern) }
      if i % block == 0 { rng = UpdateKernel.blockGenerator(seed: seed, block: i / block) }
      if i % 4 == 0 { bits = rng.next() }
      let random = UInt16(truncatingIfNeeded: bits >> (16 * UInt64(i % 4)))
      return UInt32(BFloat16(x, stochasticBits: random).bitPattern)
    }
  }
}
