import Foundation
import LomoCore
import LomoKernels
import LomoTestSupport
import XCTest

/// Attention continuing a KV cache: the new rows after a prefix of keys and values are the
/// rows of the whole sequence run at once.
final class AttentionPrefixTests: XCTestCase {
  /// Sequences of `whole` positions, each split after `prefixes[b]`: the suffix rows (padded to
  /// the longest suffix) continuing their prefix equal rows prefix..<whole of one causal pass
  /// over the whole sequence, for suffixes short enough for the dot-product path (≤ 16 rows)
  /// and long enough for the GEMM path.
  func testRowsAfterAPrefixEqualTheWholeSequence() {
    let (heads, kvHeads, d) = (6, 2, 16)
    let qWidth = heads * d, kvWidth = kvHeads * d
    for (whole, prefixes) in [(9, [6, 2]), (40, [15, 0]), (7, [6]), (150, [10, 140])] {
      let scratch = AttentionScratch()
      let batch = prefixes.count, suffix = prefixes.map { whole - $0 }.max()!
      var q = [Float](repeating: 0, count: batch * suffix * qWidth)
      var k = [Float](repeating: 0, count: batch * suffix * kvWidth), v = k
      var expected: [[Float]] = []
      // Every sequence's prefix keys and values, [past, KVH·D] each.
      let cacheKeys = AlignedBuffer<Float>(count: batch * whole * kvWidth, category: .scratch)
      let cacheValues = AlignedBuffer<Float>(count: batch * whole * kvWidth, category: .scratch)
      for (b, past) in prefixes.enumerated() {
        let wq = randomArray(whole * qWidth, seed: UInt64(10 * b + 1), in: -2...2).floats
        let wk = randomArray(whole * kvWidth, seed: UInt64(10 * b + 2)).floats
        let wv = randomArray(whole * kvWidth, seed: UInt64(10 * b + 3)).floats
        var out = [Float](repeating: 0, count: whole * qWidth), lse = [Float](repeating: 0, count: heads * whole)
        Attention.forward(out: &out, lse: &lse, q: wq, k: wk, v: wv, batch: 1, time: whole, heads: heads,
                          kvHeads: kvHeads, headDim: d, scratch: scratch)
        expected.append(Array(out[(past * qWidth)...]))
        let n = whole - past
        q.replaceSubrange(b * suffix * qWidth..<(b * suffix + n) * qWidth, with: wq[(past * qWidth)...])
        k.replaceSubrange(b * suffix * kvWidth..<(b * suffix + n) * kvWidth, with: wk[(past * kvWidth)...])
        v.replaceSubrange(b * suffix * kvWidth..<(b * suffix + n) * kvWidth, with: wv[(past * kvWidth)...])
        (cacheKeys.pointer + b * whole * kvWidth).update(from: wk, count: past * kvWidth)
        (cacheValues.pointer + b * whole * kvWidth).update(from: wv, count: past * kvWidth)
      }
      let cached = prefixes.enumerated().map { b, past in
        AttentionPrefix(keys: cacheKeys.pointer + b * whole * kvWidth, values: cacheValues.pointer + b * whole * kvWidth,
                        length: past)
      }
      var out = [Float](repeating: .nan, count: q.count), lse = [Float](repeating: .nan, count: batch * heads * suffix)
      Attention.forward(out: &out, lse: &lse, q: q, k: k, v: v, batch: batch, time: suffix, heads: heads,
                        kvHeads: kvHeads, headDim: d, prefixes: cached, scratch: scratch)
      for (b, past) in prefixes.enumerated() {
        let rows = Array(out[(b * suffix * qWidth)..<((b * suffix + whole - past) * qWidth)])
        XCTAssertNil(allClose(rows, expected[b], atol: 1e-5, rtol: 1e-4, "T=\(whole) prefixes \(prefixes) sequence \(b)"))
      }
    }
  }
}
