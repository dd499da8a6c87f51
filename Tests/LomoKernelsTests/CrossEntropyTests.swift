import LomoCore
import LomoTestSupport
import XCTest

@testable import LomoKernels

final class CrossEntropyTests: XCTestCase {
  // MARK: - Helpers

  struct Fast {
    var result: CrossEntropyResult
    var nll: [Float]      // [N]
    var dHidden: [Float]  // [N, C]
    var dWeight: [Float]  // [V, C]
  }

  /// Targets in 0..<V with row `i` ignored (−100) where `ignored(i)`.
  func makeTargets(_ n: Int, vocab: Int, seed: UInt64, ignored: (Int) -> Bool) -> [Int32] {
    var rng = Xoshiro256(seed: seed)
    return (0..<n).map { i in ignored(i) ? -100 : Int32(Int.random(in: 0..<vocab, using: &rng)) }
  }

  /// Runs the fast kernel with f32 (or bf16-rounded) weights. dHidden starts at `dHiddenInit`
  /// (zeros by default); dWeight and nll start as NaN to prove they are overwritten.
  func runFast(
    hidden: [Float], weight: [Float], targets: [Int32], rows: Int, channels: Int, vocab: Int,
    bf16: Bool = false, gradScale: Float? = nil, rowsPerChunk: Int? = nil,
    dHiddenInit: [Float]? = nil, scratch: CrossEntropyScratch = CrossEntropyScratch()
  ) -> Fast {
    var nll = [Float](repeating: .nan, count: rows)
    var dHidden = dHiddenInit ?? [Float](repeating: 0, count: rows * channels)
    var dWeight = [Float](repeating: .nan, count: vocab * channels)
    let w16 = weight.map { BFloat16($0) }
    let result = w16.withUnsafeBufferPointer { w16p in
      weight.withUnsafeBufferPointer { wp in
        CrossEntropy.forwardBackward(
          dHidden: &dHidden, dWeight: &dWeight, nll: &nll, hidden: hidden,
          weight: bf16 ? .bf16(w16p.baseAddress!) : .f32(wp.baseAddress!), targets: targets,
          rows: rows, channels: channels, vocab: vocab, gradScale: gradScale, scratch: scratch,
          rowsPerChunk: rowsPerChunk)
      }
    }
    return Fast(result: result, nll: nll, dHidden: dHidden, dWeight: dWeight)
  }

  func runForward(
    hidden: [Float], weight: [Float], targets: [Int32], rows: Int, channels: Int, vocab: Int,
    rowsPerChunk: Int? = nil
  ) -> (CrossEntropyResult, [Float]) {
    var nll = [Float](repeating: .nan, count: rows)
    let result = weight.withUnsafeBufferPointer { wp in
      CrossEntropy.forward(
        nll: &nll, hidden: hidden, weight: .f32(wp.baseAddress!), targets: targets, rows: rows,
        channels: channels, vocab: vocab, scratch: CrossEntropyScratch(),
        rowsPerChunk: rowsPerChunk)
    }
    return (result, nll)
  }

  /// Fast f32 against the Double reference: loss, nll, dHidden, dWeight, and forward only.
  func checkAgainstReference(
    rows: Int, channels: Int, vocab: Int, targets: [Int32], rowsPerChunk: Int?,
    gradScale: Float? = nil, seed: UInt64, file: StaticString = #filePath, line: UInt = #line
  ) {
    let hidden = randomArray(rows * channels, seed: seed)
    let weight = randomArray(vocab * channels, seed: seed + 1)
    let ref = CrossEntropyReference.forwardBackward(
      hidden: hidden, weight: weight, targets: targets, rows: rows, channels: channels,
      vocab: vocab, gradScale: gradScale.map { Double($0) })
    let fast = runFast(
      hidden: hidden.floats, weight: weight.floats, targets: targets, rows: rows,
      channels: channels, vocab: vocab, gradScale: gradScale, rowsPerChunk: rowsPerChunk)
    let tag = "N=\(rows) C=\(channels) V=\(vocab) chunk=\(rowsPerChunk.map(String.init) ?? "default")"
    XCTAssertEqual(fast.result.tokenCount, ref.tokenCount, tag, file: file, line: line)
    XCTAssertEqual(fast.result.lossSum, ref.lossSum, accuracy: 1e-5 * Double(rows) + 1e-4 * abs(ref.lossSum),
                   tag, file: file, line: line)
    XCTAssertEqual(Double(fast.result.meanLoss), ref.lossSum / Double(ref.tokenCount),
                   accuracy: 1e-4, tag, file: file, line: line)
    XCTAssertNil(allClose(fast.nll, ref.nll, atol: 1e-5, rtol: 1e-4, "nll \(tag)"), file: file, line: line)
    XCTAssertNil(allClose(fast.dHidden, ref.dHidden, atol: 1e-5, rtol: 1e-4, "dHidden \(tag)"),
                 file: file, line: line)
    XCTAssertNil(allClose(fast.dWeight, ref.dWeight, atol: 1e-5, rtol: 1e-4, "dWeight \(tag)"),
                 file: file, line: line)

    let (fwd, fwdNLL) = runForward(
      hidden: hidden.floats, weight: weight.floats, targets: targets, rows: rows,
      channels: channels, vocab: vocab, rowsPerChunk: rowsPerChunk)
    XCTAssertEqual(fwd.tokenCount, ref.tokenCount, tag, file: file, line: line)
    XCTAssertEqual(fwd.lossSum, fast.result.lossSum, accuracy: 1e-9 * Double(rows), tag,
                   file: file, line: line)
    XCTAssertNil(allClose(fwdNLL, ref.nll, atol: 1e-5, rtol: 1e-4, "forward nll \(tag)"),
                 file: file, line: line)
  }

  // MARK: - Reference

  func testReferenceGradientsMatchFiniteDifferences() {
    let (N, C, V) = (5, 4, 7)
    let targets: [Int32] = [3, -100, 0, 6, -1]
    let hidden = randomArray(N * C, seed: 1)
    let weight = randomArray(V * C, seed: 2)
    let ref = CrossEntropyReference.forwardBackward(
      hidden: hidden, weight: weight, targets: targets, rows: N, channels: C, vocab: V)
    XCTAssertEqual(ref.tokenCount, 3)
    XCTAssertEqual(ref.loss, ref.lossSum / 3, accuracy: 1e-15)
    let numHidden = numericGradient(of: { h in
      CrossEntropyReference.forwardBackward(
        hidden: h, weight: weight, targets: targets, rows: N, channels: C, vocab: V).loss
    }, at: hidden)
    let numWeight = numericGradient(of: { w in
      CrossEntropyReference.forwardBackward(
        hidden: hidden, weight: w, targets: targets, rows: N, channels: C, vocab: V).loss
    }, at: weight)
    XCTAssertNil(allClose(ref.dHidden, numHidden, atol: 1e-8, rtol: 1e-6, "dHidden"))
    XCTAssertNil(allClose(ref.dWeight, numWeight, atol: 1e-8, rtol: 1e-6, "dWeight"))
    // Ignored rows have exactly zero gradient.
    for c in 0..<C {
      XCTAssertEqual(ref.dHidden[1 * C + c], 0)
      XCTAssertEqual(ref.dHidden[4 * C + c], 0)
    }
  }

  func testReferenceUniformLogitsGiveLogV() {
    let (N, C, V) = (3, 2, 11)
    let ref = CrossEntropyReference.forwardBackward(
      hidden: randomArray(N * C, seed: 3), weight: [Double](repeating: 0, count: V * C),
      targets: [0, 5, 10], rows: N, channels: C, vocab: V)
    XCTAssertNil(allClose(ref.nll, [Double](repeating: log(Double(V)), count: N), atol: 1e-12,
                          rtol: 0, "nll"))
  }

  // MARK: - Fast vs reference

  func testSmallOddSizesMatchReference() {
    let targets = makeTargets(7, vocab: 37, seed: 10) { $0 == 2 || $0 == 5 }
    checkAgainstReference(rows: 7, channels: 10, vocab: 37, targets: targets, rowsPerChunk: nil,
                          seed: 11)
    checkAgainstReference(rows: 7, channels: 10, vocab: 37, targets: targets, rowsPerChunk: 2,
                          seed: 12)
  }

  func testSeveralChunksWithRemainderMatchReference() {
    // No ignored rows: every chunk contiguous (33 = 8·4 + 1).
    let all = makeTargets(33, vocab: 1000, seed: 20) { _ in false }
    checkAgainstReference(rows: 33, channels: 24, vocab: 1000, targets: all, rowsPerChunk: 4,
                          seed: 21)
    // Ignored rows scattered: 29 unmasked rows in chunks of 5 (5·5 + 4), some gathered.
    let some = makeTargets(33, vocab: 1000, seed: 22) { [0, 6, 7, 19, 32].contains($0) }
    checkAgainstReference(rows: 33, channels: 24, vocab: 1000, targets: some, rowsPerChunk: 5,
                          seed: 23)
    // One row per chunk, and the default (one chunk).
    checkAgainstReference(rows: 33, channels: 24, vocab: 1000, targets: some, rowsPerChunk: 1,
                          seed: 24)
    checkAgainstReference(rows: 33, channels: 24, vocab: 1000, targets: some, rowsPerChunk: nil,
                          seed: 25)
  }

  func testLargeLogitsStayFinite() {
    // Logits in the hundreds: log-sum-exp must subtract the max.
    let (N, C, V) = (4, 8, 50)
    let hidden = randomArray(N * C, seed: 30, in: -10...10)
    let weight = randomArray(V * C, seed: 31, in: -10...10)
    let targets: [Int32] = [0, 49, 17, 3]
    let ref = CrossEntropyReference.forwardBackward(
      hidden: hidden, weight: weight, targets: targets, rows: N, channels: C, vocab: V)
    let fast = runFast(hidden: hidden.floats, weight: weight.floats, targets: targets, rows: N,
                       channels: C, vocab: V)
    XCTAssertNil(allClose(fast.nll, ref.nll, atol: 1e-3, rtol: 1e-5, "nll"))
    XCTAssertNil(allClose(fast.dHidden, ref.dHidden, atol: 1e-4, rtol: 1e-4, "dHidden"))
    XCTAssertNil(allClose(fast.dWeight, ref.dWeight, atol: 1e-4, rtol: 1e-4, "dWeight"))
  }

  // MARK: - Contract

  func testDHiddenAccumulatesAndDWeightIsOverwritten() {
    let (N, C, V) = (9, 12, 40)
    let hidden = randomArray(N * C, seed: 40).floats
    let weight = randomArray(V * C, seed: 41).floats
    let targets = makeTargets(N, vocab: V, seed: 42) { $0 == 4 }
    let prior = randomArray(N * C, seed: 43).floats
    let fresh = runFast(hidden: hidden, weight: weight, targets: targets, rows: N, channels: C,
                        vocab: V, rowsPerChunk: 3)
    let scratch = CrossEntropyScratch()
    let acc = runFast(hidden: hidden, weight: weight, targets: targets, rows: N, channels: C,
                      vocab: V, rowsPerChunk: 3, dHiddenInit: prior, scratch: scratch)
    let expected = zip(prior, fresh.dHidden).map { $0 + $1 }
    XCTAssertNil(allClose(acc.dHidden, expected, atol: 1e-6, rtol: 1e-5, "dHidden += "))
    // The ignored row keeps its prior gradient exactly.
    XCTAssertEqual(Array(acc.dHidden[(4 * C)..<(5 * C)]), Array(prior[(4 * C)..<(5 * C)]))
    // dWeight started as NaN and was overwritten; a second call with the same scratch gives
    // the same dWeight (no accumulation across calls).
    XCTAssertNil(allClose(acc.dWeight, fresh.dWeight, atol: 0, rtol: 0, "dWeight"))
    let again = runFast(hidden: hidden, weight: weight, targets: targets, rows: N, channels: C,
                        vocab: V, rowsPerChunk: 3, scratch: scratch)
    XCTAssertNil(allClose(again.dWeight, fresh.dWeight, atol: 0, rtol: 0, "dWeight again"))
  }

  func testAllIgnoredGivesZeroTokensAndZeroGradients() {
    let (N, C, V) = (6, 5, 17)
    let prior = randomArray(N * C, seed: 50).floats
    for bf16 in [false, true] {
      let fast = runFast(
        hidden: randomArray(N * C, seed: 51).floats, weight: randomArray(V * C, seed: 52).floats,
        targets: [Int32](repeating: -100, count: N), rows: N, channels: C, vocab: V, bf16: bf16,
        dHiddenInit: prior)
      XCTAssertEqual(fast.result.tokenCount, 0)
      XCTAssertEqual(fast.result.lossSum, 0)
      XCTAssertEqual(fast.result.meanLoss, 0)
      XCTAssertEqual(fast.nll, [Float](repeating: 0, count: N))
      XCTAssertEqual(fast.dHidden, prior)
      XCTAssertEqual(fast.dWeight, [Float](repeating: 0, count: V * C))
    }
    let (fwd, nll) = runForward(
      hidden: randomArray(N * C, seed: 51).floats, weight: randomArray(V * C, seed: 52).floats,
      targets: [Int32](repeating: -1, count: N), rows: N, channels: C, vocab: V)
    XCTAssertEqual(fwd.tokenCount, 0)
    XCTAssertEqual(fwd.meanLoss, 0)
    XCTAssertEqual(nll, [Float](repeating: 0, count: N))
  }

  func testGradScaleIsHonoured() {
    let targets = makeTargets(11, vocab: 64, seed: 60) { $0 % 4 == 1 }
    checkAgainstReference(rows: 11, channels: 16, vocab: 64, targets: targets, rowsPerChunk: 3,
                          gradScale: 0.25, seed: 61)
    // Explicit 1/tokenCount equals the default.
    let hidden = randomArray(11 * 16, seed: 62).floats
    let weight = randomArray(64 * 16, seed: 63).floats
    let count = targets.filter { $0 >= 0 }.count
    let byDefault = runFast(hidden: hidden, weight: weight, targets: targets, rows: 11,
                            channels: 16, vocab: 64)
    let explicit = runFast(hidden: hidden, weight: weight, targets: targets, rows: 11,
                           channels: 16, vocab: 64, gradScale: 1 / Float(count))
    XCTAssertEqual(byDefault.dHidden, explicit.dHidden)
    XCTAssertEqual(byDefault.dWeight, explicit.dWeight)
    // The loss sum does not depend on gradScale.
    let scaled = runFast(hidden: hidden, weight: weight, targets: targets, rows: 11,
                         channels: 16, vocab: 64, gradScale: 3)
    XCTAssertEqual(scaled.result.lossSum, byDefault.result.lossSum)
    let ratio = scaled.dWeight.map { $0 / (3 * Float(count)) }
    XCTAssertNil(allClose(ratio, byDefault.dWeight, atol: 1e-7, rtol: 1e-5, "dWeight ∝ gradScale"))
  }

  // MARK: - bf16 weights

  func testBF16WeightsCloseToF32() {
    let (N, C, V) = (33, 64, 1000)
    let hidden = randomArray(N * C, seed: 70).floats
    // Round the weights to bf16 first, so only the activation rounding differs.
    let weight = randomArray(V * C, seed: 71, in: -0.5...0.5).floats.map { BFloat16($0).float }
    let targets = makeTargets(N, vocab: V, seed: 72) { [3, 4, 20].contains($0) }
    let prior = randomArray(N * C, seed: 73).floats
    let f32 = runFast(hidden: hidden, weight: weight, targets: targets, rows: N, channels: C,
                      vocab: V, rowsPerChunk: 7, dHiddenInit: prior)
    let b16 = runFast(hidden: hidden, weight: weight, targets: targets, rows: N, channels: C,
                      vocab: V, bf16: true, rowsPerChunk: 7, dHiddenInit: prior)
    XCTAssertEqual(b16.result.tokenCount, f32.result.tokenCount)
    XCTAssertEqual(b16.result.lossSum, f32.result.lossSum, accuracy: 2e-2 * f32.result.lossSum)
    XCTAssertNil(allClose(b16.nll, f32.nll, atol: 2e-2, rtol: 2e-2, "nll"))
    func scaleOf(_ a: [Float]) -> Double { a.reduce(0) { max($0, Double(abs($1))) } }
    let dh = zip(f32.dHidden, prior).map { $0 - $1 }, dh16 = zip(b16.dHidden, prior).map { $0 - $1 }
    XCTAssertNil(allClose(dh16, dh, atol: 2e-2 * scaleOf(dh), rtol: 2e-2, "dHidden"))
    XCTAssertNil(allClose(b16.dWeight, f32.dWeight, atol: 2e-2 * scaleOf(f32.dWeight), rtol: 2e-2,
                          "dWeight"))
    // Ignored rows untouched in the bf16 path too.
    XCTAssertEqual(Array(b16.dHidden[(3 * C)..<(5 * C)]), Array(prior[(3 * C)..<(5 * C)]))
  }

  // MARK: - Memory

  func testScratchIsBoundedByChunkNotByRows() {
    let (N, C, V) = (4096, 64, 49152)
    let hidden = randomArray(N * C, seed: 80).floats
    let weight = randomArray(V * C, seed: 81, in: -0.1...0.1).floats
    let targets = makeTargets(N, vocab: V, seed: 82) { $0 % 97 == 5 }
    let fullLogitsBytes = N * V * 4
    for bf16 in [false, true] {
      let ledger = MemoryLedger()
      let fast = runFast(hidden: hidden, weight: weight, targets: targets, rows: N, channels: C,
                         vocab: V, bf16: bf16, scratch: CrossEntropyScratch(ledger: ledger))
      let peak = ledger.usage.peak[.scratch] ?? 0
      XCTAssertGreaterThan(peak, 0, "the scratch must be accounted in the ledger")
      XCTAssertLessThanOrEqual(peak, 33 << 20, "bf16=\(bf16): scratch peak \(peak) bytes")
      XCTAssertLessThan(peak, fullLogitsBytes / 20)
      XCTAssertEqual(fast.result.tokenCount, N - targets.filter { $0 < 0 }.count)
      // Small logits: the loss is close to log V.
      XCTAssertEqual(Double(fast.result.meanLoss), log(Double(V)), accuracy: 0.1, "bf16=\(bf16)")
      XCTAssertFalse(fast.dWeight.contains { !$0.isFinite })
    }
  }
}
