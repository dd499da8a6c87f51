import LomoCore
import LomoModel
@testable import LomoOptim
import XCTest

/// The bf16 fast path of `UpdateKernel` (C conversion loops per block) against the generic
/// per-16-element path of `StorageIO`: identical bits, for both rounding modes, on a size that
/// leaves a ragged last block and chunk, with values that exercise NaN, infinities and
/// subnormals.
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
      XCTAssertEqual(p.bits, reference(before, gradient, rule, rounding: rounding, seed: 11), "\(rounding)")
    }
  }

  /// The update of `UpdateKernel.apply`'s contract, rounded through `StorageIO.store`.
  func reference(_ p: [Float], _ g: [Float], _ rule: SGDRule, rounding: RoundingMode, seed: UInt64)
    -> [UInt16]
  {
    var out = [BFloat16](repeating: BFloat16(bitPattern: 0), count: p.count)
    out.withUnsafeMutableBufferPointer { dst in
      let block = UpdateKernel.block
      for blk in 0..<(p.count + block - 1) / block {
        var rng = UpdateKernel.blockGenerator(seed: seed, block: blk)
        var i = blk * block
        let end = min(i + block, p.count)
        while i < end {
          let n = min(16, end - i)
          var v = SIMD16<Float>()
          for j in 0..<n {
            var x = min(max(g[i + j], -rule.clipValue), rule.clipValue) * rule.clipCoefficient
            x = (p[i + j] * (1 - rule.learningRate * rule.weightDecay)).addingProduct(-rule.learningRate, x)
            v[j] = x
          }
          StorageIO.store(v, dst.baseAddress!, i, n, stochastic: rounding == .stochastic, rng: &rng)
          i += 16
        }
      }
    }
    return out.map(\.bitPattern)
  }
}

extension ParameterTensor {
  /// The bf16 bit patterns of the storage.
  fileprivate var bits: [UInt16] {
    guard case .bf16(let b) = storage else { return [] }
    return (0..<count).map { b.pointer[$0].bitPattern }
  }
}
