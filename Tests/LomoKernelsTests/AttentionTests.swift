import Foundation
import LomoCore
@testable import LomoKernels
import LomoTestSupport
import XCTest

/// One attention problem: shapes and random inputs (Double, converted to f32 for the kernel).
private struct Problem {
  let batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int
  let q: [Double], k: [Double], v: [Double], dOut: [Double]

  init(batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int, seed: UInt64,
       qRange: ClosedRange<Double> = -2...2)
  {
    (self.batch, self.time, self.heads, self.kvHeads, self.headDim) =
      (batch, time, heads, kvHeads, headDim)
    let nq = batch * time * heads * headDim, nkv = batch * time * kvHeads * headDim
    q = randomArray(nq, seed: seed, in: qRange)  // wide range: peaked softmax rows
    k = randomArray(nkv, seed: seed + 1)
    v = randomArray(nkv, seed: seed + 2)
    dOut = randomArray(nq, seed: seed + 3)
  }

  var label: String { "B=\(batch) T=\(time) H=\(heads) KVH=\(kvHeads) D=\(headDim)" }

  func referenceForward(q: [Double]? = nil, k: [Double]? = nil, v: [Double]? = nil)
    -> (out: [Double], lse: [Double])
  {
    AttentionReference.forward(q: q ?? self.q, k: k ?? self.k, v: v ?? self.v, batch: batch,
                               time: time, heads: heads, kvHeads: kvHeads, headDim: headDim)
  }

  func referenceBackward() -> (dQ: [Double], dK: [Double], dV: [Double]) {
    AttentionReference.backward(dOut: dOut, q: q, k: k, v: v, batch: batch, time: time,
                                heads: heads, kvHeads: kvHeads, headDim: headDim)
  }

  /// The f32 kernel's forward: (out, lse).
  func fastForward(scratch: AttentionScratch = AttentionScratch()) -> (out: [Float], lse: [Float]) {
    var out = [Float](repeating: .nan, count: q.count)  // overwritten, so NaN must vanish
    var lse = [Float](repeating: .nan, count: batch * heads * time)
    let (qf, kf, vf) = (q.floats, k.floats, v.floats)
    Attention.forward(out: &out, lse: &lse, q: qf, k: kf, v: vf, batch: batch, time: time,
                      heads: heads, kvHeads: kvHeads, headDim: headDim, scratch: scratch)
    return (out, lse)
  }

  /// The f32 kernel's backward, accumulating `calls` times into the given starting gradients.
  func fastBackward(
    out: [Float], lse: [Float], dQ: [Float]? = nil, dK: [Float]? = nil, dV: [Float]? = nil,
    calls: Int = 1, scratch: AttentionScratch = AttentionScratch()
  ) -> (dQ: [Float], dK: [Float], dV: [Float]) {
    var dQ = dQ ?? [Float](repeating: 0, count: q.count)
    var dK = dK ?? [Float](repeating: 0, count: k.count)
    var dV = dV ?? [Float](repeating: 0, count: v.count)
    let (qf, kf, vf, dOf) = (q.floats, k.floats, v.floats, dOut.floats)
    for _ in 0..<calls {
      Attention.backward(dQ: &dQ, dK: &dK, dV: &dV, dOut: dOf, q: qf, k: kf, v: vf, out: out,
                         lse: lse, batch: batch, time: time, heads: heads, kvHeads: kvHeads,
                         headDim: headDim, scratch: scratch)
    }
    return (dQ, dK, dV)
  }
}

final class AttentionTests: XCTestCase {
  // MARK: Reference

  /// With one key per query row (T = 1) softmax is 1: out = v of the row's kv head and
  /// lse = q·k/sqrt(D). Checks the head mapping h -> h / (H / KVH) directly.
  func testReferenceSingleStepCopiesValues() {
    let p = Problem(batch: 2, time: 1, heads: 4, kvHeads: 2, headDim: 3, seed: 7)
    let (out, lse) = p.referenceForward()
    for b in 0..<2 {
      for h in 0..<4 {
        let kvh = h / 2
        var s = 0.0
        for d in 0..<3 {
          XCTAssertEqual(out[(b * 4 + h) * 3 + d], p.v[(b * 2 + kvh) * 3 + d], accuracy: 1e-15)
          s += p.q[(b * 4 + h) * 3 + d] * p.k[(b * 2 + kvh) * 3 + d]
        }
        XCTAssertEqual(lse[b * 4 + h], s / 3.0.squareRoot(), accuracy: 1e-15)
      }
    }
  }

  /// With all-zero keys every score is 0: out[t] is the mean of v[0...t] and lse = log(t + 1).
  func testReferenceUniformScoresAverageThePrefix() {
    let p = Problem(batch: 1, time: 6, heads: 2, kvHeads: 1, headDim: 4, seed: 9)
    let zeros = [Double](repeating: 0, count: p.k.count)
    let (out, lse) = p.referenceForward(k: zeros)
    for h in 0..<2 {
      for t in 0..<6 {
        XCTAssertEqual(lse[h * 6 + t], log(Double(t + 1)), accuracy: 1e-14)
        for d in 0..<4 {
          let mean = (0...t).map { p.v[$0 * 4 + d] }.reduce(0, +) / Double(t + 1)
          XCTAssertEqual(out[(t * 2 + h) * 4 + d], mean, accuracy: 1e-14)
        }
      }
    }
  }

  /// Finite differences of L = Σ out·probe against the reference backward with dOut = probe.
  func testReferenceBackwardMatchesFiniteDifferences() {
    for p in [
      Problem(batch: 2, time: 5, heads: 4, kvHeads: 2, headDim: 6, seed: 11),
      Problem(batch: 2, time: 5, heads: 3, kvHeads: 1, headDim: 6, seed: 21),
    ] {
      let (dQ, dK, dV) = p.referenceBackward()
      let loss = { (q: [Double], k: [Double], v: [Double]) in
        dot(p.referenceForward(q: q, k: k, v: v).out, p.dOut)
      }
      let nq = numericGradient(of: { loss($0, p.k, p.v) }, at: p.q)
      let nk = numericGradient(of: { loss(p.q, $0, p.v) }, at: p.k)
      let nv = numericGradient(of: { loss(p.q, p.k, $0) }, at: p.v)
      XCTAssertNil(allClose(dQ, nq, atol: 1e-8, rtol: 1e-6, "dQ \(p.label)"))
      XCTAssertNil(allClose(dK, nk, atol: 1e-8, rtol: 1e-6, "dK \(p.label)"))
      XCTAssertNil(allClose(dV, nv, atol: 1e-8, rtol: 1e-6, "dV \(p.label)"))
    }
  }

  /// The SIMD exp used by softmax, against Double exp, over the inputs softmax sees (≤ 0) and
  /// a little above, including a ragged tail handled by `exponentiate`.
  func testVectorExpMatchesLibm() {
    let xs = (0..<4001).map { Float(-87 + 97 * Double($0) / 4000) }  // -87...10
    var row = xs
    let sum = RowOps.exponentiate(&row, count: row.count, minus: 0)
    let expected = xs.map { Foundation.exp(Double($0)) }
    XCTAssertNil(allClose(row, expected, atol: 0, rtol: 1e-6, "exp"))
    XCTAssertEqual(Double(sum), expected.reduce(0, +), accuracy: 1e-5 * expected.reduce(0, +))
  }

  // MARK: Fast kernel vs reference

  /// Odd sizes (T not a multiple of 8 or 16, several query blocks with a ragged last one),
  /// grouped-query heads, one scratch reused across shapes.
  private static func oddProblems(seed: UInt64) -> [Problem] {
    let shapes = [(2, 7, 4, 2, 6), (1, 13, 3, 1, 10), (2, 70, 6, 2, 64), (1, 150, 4, 4, 17),
                  (1, 1, 2, 1, 5)]
    return shapes.enumerated().map { i, s in
      Problem(batch: s.0, time: s.1, heads: s.2, kvHeads: s.3, headDim: s.4,
              seed: seed + UInt64(i) * 10)
    }
  }

  func testForwardMatchesReference() {
    let scratch = AttentionScratch()
    for p in Self.oddProblems(seed: 100) {
      let ref = p.referenceForward()
      let fast = p.fastForward(scratch: scratch)
      XCTAssertNil(allClose(fast.out, ref.out, atol: 1e-5, rtol: 1e-4, "out \(p.label)"))
      XCTAssertNil(allClose(fast.lse, ref.lse, atol: 1e-5, rtol: 1e-4, "lse \(p.label)"))
    }
  }

  func testBackwardMatchesReference() {
    let scratch = AttentionScratch()
    for p in Self.oddProblems(seed: 200) {
      let ref = p.referenceBackward()
      let (out, lse) = p.fastForward(scratch: scratch)
      let fast = p.fastBackward(out: out, lse: lse, scratch: scratch)
      XCTAssertNil(allClose(fast.dQ, ref.dQ, atol: 1e-5, rtol: 1e-4, "dQ \(p.label)"))
      XCTAssertNil(allClose(fast.dK, ref.dK, atol: 1e-5, rtol: 1e-4, "dK \(p.label)"))
      XCTAssertNil(allClose(fast.dV, ref.dV, atol: 1e-5, rtol: 1e-4, "dV \(p.label)"))
    }
  }

  /// With two threads and at least two (batch, kv head) groups per thread, the groups run in
  /// parallel with single-threaded products: the same bits as the serial loop on one thread.
  func testParallelGroupsGiveTheSerialLoopsBits() {
    defer { Runtime.setThreadCount(Threads.hardwareCount) }
    let p = Problem(batch: 3, time: 150, heads: 6, kvHeads: 2, headDim: 16, seed: 350)
    var runs: [[[Float]]] = []
    for threads in [1, 2] {
      Runtime.setThreadCount(threads)
      let (out, lse) = p.fastForward()
      let grads = p.fastBackward(out: out, lse: lse)
      runs.append([out, lse, grads.dQ, grads.dK, grads.dV])
    }
    XCTAssertEqual(runs[0], runs[1])
    XCTAssertNil(allClose(runs[1][0], p.referenceForward().out, atol: 1e-5, rtol: 1e-4, "out"))
  }

  /// Two backward calls on pre-filled gradients give prior + 2 · gradient.
  func testBackwardAccumulates() {
    let p = Problem(batch: 2, time: 70, heads: 4, kvHeads: 2, headDim: 10, seed: 300)
    let ref = p.referenceBackward()
    let (out, lse) = p.fastForward()
    let priorQ = randomArray(p.q.count, seed: 301), priorK = randomArray(p.k.count, seed: 302)
    let priorV = randomArray(p.v.count, seed: 303)
    let fast = p.fastBackward(out: out, lse: lse, dQ: priorQ.floats, dK: priorK.floats,
                              dV: priorV.floats, calls: 2)
    // Expected values built from the f32-rounded priors the kernel started from.
    func expected(_ prior: [Double], _ grad: [Double]) -> [Double] {
      zip(prior.floats.doubles, grad).map { $0 + 2 * $1 }
    }
    XCTAssertNil(allClose(fast.dQ, expected(priorQ, ref.dQ), atol: 2e-5, rtol: 1e-4, "dQ"))
    XCTAssertNil(allClose(fast.dK, expected(priorK, ref.dK), atol: 2e-5, rtol: 1e-4, "dK"))
    XCTAssertNil(allClose(fast.dV, expected(priorV, ref.dV), atol: 2e-5, rtol: 1e-4, "dV"))
  }

  /// Scores far beyond f32 exp's range (|s| ~ 1e3): max-subtraction and lse keep it finite.
  func testLargeScoresStayFinite() {
    let p = Problem(batch: 1, time: 33, heads: 2, kvHeads: 1, headDim: 8, seed: 400,
                    qRange: -300...300)
    let ref = p.referenceForward()
    let fast = p.fastForward()
    XCTAssertNil(allClose(fast.out, ref.out, atol: 1e-5, rtol: 1e-4, "out"))
    XCTAssertNil(allClose(fast.lse, ref.lse, atol: 1e-5, rtol: 1e-4, "lse"))
    let grads = p.fastBackward(out: fast.out, lse: fast.lse)
    let refGrads = p.referenceBackward()
    XCTAssertNil(allClose(grads.dQ, refGrads.dQ, atol: 1e-4, rtol: 1e-3, "dQ"))
    XCTAssertNil(allClose(grads.dK, refGrads.dK, atol: 1e-4, rtol: 1e-3, "dK"))
    XCTAssertNil(allClose(grads.dV, refGrads.dV, atol: 1e-5, rtol: 1e-4, "dV"))
  }

  // MARK: Long sequence

  /// T = 2048 runs, stays finite, and is causal: rows t < 16 of out, lse and dQ equal attention
  /// on the 16-step prefix alone (dQ of row t depends only on keys and values 0...t).
  func testLongSequenceIsFiniteAndCausal() {
    let (t, prefix, h, kvh, d) = (2048, 16, 2, 1, 64)
    let p = Problem(batch: 1, time: t, heads: h, kvHeads: kvh, headDim: d, seed: 500)
    let scratch = AttentionScratch()
    let (out, lse) = p.fastForward(scratch: scratch)
    let grads = p.fastBackward(out: out, lse: lse, scratch: scratch)
    for (name, values) in [("out", out), ("lse", lse), ("dQ", grads.dQ), ("dK", grads.dK),
                           ("dV", grads.dV)] {
      XCTAssertTrue(values.allSatisfy(\.isFinite), "\(name) has non-finite values")
    }
    XCTAssertGreaterThan(grads.dK.map(abs).max()!, 0, "dK is all zero")

    let ref = AttentionReference.forward(
      q: Array(p.q[..<(prefix * h * d)]), k: Array(p.k[..<(prefix * kvh * d)]),
      v: Array(p.v[..<(prefix * kvh * d)]), batch: 1, time: prefix, heads: h, kvHeads: kvh,
      headDim: d)
    let refGrads = AttentionReference.backward(
      dOut: Array(p.dOut[..<(prefix * h * d)]), q: Array(p.q[..<(prefix * h * d)]),
      k: Array(p.k[..<(prefix * kvh * d)]), v: Array(p.v[..<(prefix * kvh * d)]),
      batch: 1, time: prefix, heads: h, kvHeads: kvh, headDim: d)
    XCTAssertNil(allClose(out[..<(prefix * h * d)], ref.out, atol: 1e-5, rtol: 1e-4, "out"))
    let lsePrefix = (0..<h).flatMap { head in lse[(head * t)..<(head * t + prefix)] }
    XCTAssertNil(allClose(lsePrefix, ref.lse, atol: 1e-5, rtol: 1e-4, "lse"))
    XCTAssertNil(allClose(grads.dQ[..<(prefix * h * d)], refGrads.dQ, atol: 1e-5, rtol: 1e-4,
                          "dQ"))
  }

  // MARK: Timing (not a test of speed: skipped unless LOMO_BENCH is set)

  func testTimingReport() throws {
    try XCTSkipIf(ProcessInfo.processInfo.environment["LOMO_BENCH"] == nil, "set LOMO_BENCH=1")
    let (b, t, h, kvh, d) = (4, 512, 9, 3, 64)
    let p = Problem(batch: b, time: t, heads: h, kvHeads: kvh, headDim: d, seed: 600)
    let (qf, kf, vf, dOf) = (p.q.floats, p.k.floats, p.v.floats, p.dOut.floats)
    var out = [Float](repeating: 0, count: qf.count), lse = [Float](repeating: 0, count: b * h * t)
    var dQ = [Float](repeating: 0, count: qf.count), dK = [Float](repeating: 0, count: kf.count)
    var dV = dK
    let scratch = AttentionScratch()
    var best = (forward: Double.infinity, backward: Double.infinity)
    var cpu = Double.infinity
    for _ in 0..<5 {
      let c0 = clock()
      let t0 = Date()
      Attention.forward(out: &out, lse: &lse, q: qf, k: kf, v: vf, batch: b, time: t, heads: h,
                        kvHeads: kvh, headDim: d, scratch: scratch)
      let t1 = Date()
      Attention.backward(dQ: &dQ, dK: &dK, dV: &dV, dOut: dOf, q: qf, k: kf, v: vf, out: out,
                         lse: lse, batch: b, time: t, heads: h, kvHeads: kvh, headDim: d,
                         scratch: scratch)
      let t2 = Date()
      cpu = min(cpu, Double(clock() - c0) / Double(CLOCKS_PER_SEC))
      best.forward = min(best.forward, t1.timeIntervalSince(t0))
      best.backward = min(best.backward, t2.timeIntervalSince(t1))
    }
    print(String(format: "attention B=%d T=%d H=%d KVH=%d D=%d: forward %.2f ms, backward %.2f ms"
                   + " (wall, best of 5); forward+backward %.2f ms process CPU time",
                 b, t, h, kvh, d, best.forward * 1e3, best.backward * 1e3, cpu * 1e3))
  }
}
