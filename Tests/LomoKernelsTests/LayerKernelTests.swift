import LomoCore
import LomoKernels
import LomoTestSupport
import XCTest

/// Finite-difference checks of the Double references and comparisons of the fast f32 kernels
/// with them, for MatMul, Embedding, RMSNorm, RoPE and SwiGLU. Sizes are deliberately odd
/// (not multiples of 8 or 16) to exercise SIMD tails.
final class LayerKernelTests: XCTestCase {
  func buffer(_ values: [Double]) -> AlignedBuffer<Float> {
    AlignedBuffer(values.floats, category: .scratch)
  }

  // MARK: MatMul

  func testMatMulReferenceBackwardMatchesFiniteDifferences() {
    let (n, i, o) = (3, 5, 4)
    let x = randomArray(n * i, seed: 1), w = randomArray(o * i, seed: 2)
    let probe = randomArray(n * o, seed: 3)
    let grads = MatMulReference.backward(dOut: probe, inp: x, weight: w, rows: n, inDim: i, outDim: o)
    let loss = { (x: [Double], w: [Double]) in
      dot(MatMulReference.forward(inp: x, weight: w, rows: n, inDim: i, outDim: o), probe)
    }
    XCTAssertNil(allClose(grads.dInp, numericGradient(of: { loss($0, w) }, at: x), atol: 1e-8, rtol: 1e-6, "dInp"))
    XCTAssertNil(allClose(grads.dWeight, numericGradient(of: { loss(x, $0) }, at: w), atol: 1e-8, rtol: 1e-6, "dWeight"))
  }

  func testMatMulF32MatchesReferenceInAllLayouts() {
    for (n, i, o) in [(7, 13, 5), (33, 24, 70), (2, 576, 192)] {
      let x = randomArray(n * i, seed: 4), w = randomArray(o * i, seed: 5)
      let dy = randomArray(n * o, seed: 6), prior = randomArray(n * i, seed: 7)
      let expectedOut = MatMulReference.forward(inp: x, weight: w, rows: n, inDim: i, outDim: o)
      let expected = MatMulReference.backward(dOut: dy, inp: x, weight: w, rows: n, inDim: i, outDim: o)
      let xb = buffer(x), wb = buffer(w), dyb = buffer(dy)
      let out = AlignedBuffer<Float>(count: n * o, category: .scratch)
      let dInp = buffer(prior)
      let dW = AlignedBuffer<Float>(count: o * i, category: .scratch)
      dW.fill(.nan)  // overwritten, so prior contents must not matter
      let scratch = GemmScratch()
      MatMul.forward(out: out.pointer, inp: xb.pointer, weight: .f32(wb.pointer), rows: n, inDim: i, outDim: o, scratch: scratch)
      MatMul.backwardInput(dInp: dInp.pointer, dOut: dyb.pointer, weight: .f32(wb.pointer), rows: n, inDim: i, outDim: o, scratch: scratch)
      MatMul.backwardWeight(dWeight: dW.pointer, dOut: dyb.pointer, inp: xb.pointer, rows: n, inDim: i, outDim: o, scratch: scratch)
      let tag = "N=\(n) I=\(i) O=\(o)"
      XCTAssertNil(allClose(out.array, expectedOut, atol: 1e-5, rtol: 1e-5, "forward \(tag)"))
      XCTAssertNil(allClose(dInp.array, zip(prior, expected.dInp).map(+), atol: 1e-5, rtol: 1e-5, "dInp accumulates \(tag)"))
      XCTAssertNil(allClose(dW.array, expected.dWeight, atol: 1e-5, rtol: 1e-5, "dWeight \(tag)"))
      keepAlive(xb, wb, dyb)
    }
  }

  /// bf16 weights: the product must equal the f64 product of the bf16-rounded operands up to
  /// f32 accumulation error.
  func testMatMulBF16MatchesReferenceOnRoundedOperands() {
    let (n, i, o) = (9, 40, 23)
    let round = { (v: [Double]) in v.map { Double(BFloat16(Float($0)).float) } }
    let x = randomArray(n * i, seed: 8), w = randomArray(o * i, seed: 9), dy = randomArray(n * o, seed: 10)
    let wBF16 = AlignedBuffer<BFloat16>(w.map { BFloat16(Float($0)) }, category: .scratch)
    let xb = buffer(x), dyb = buffer(dy)
    let out = AlignedBuffer<Float>(count: n * o, category: .scratch)
    let dInp = AlignedBuffer<Float>(count: n * i, category: .scratch)
    let dW = AlignedBuffer<Float>(count: o * i, category: .scratch)
    let scratch = GemmScratch()
    MatMul.forward(out: out.pointer, inp: xb.pointer, weight: .bf16(wBF16.pointer), rows: n, inDim: i, outDim: o, scratch: scratch)
    MatMul.backwardInput(dInp: dInp.pointer, dOut: dyb.pointer, weight: .bf16(wBF16.pointer), rows: n, inDim: i, outDim: o, scratch: scratch)
    MatMul.backwardWeight(dWeight: dW.pointer, dOut: dyb.pointer, inp: xb.pointer, rows: n, inDim: i, outDim: o, bf16Operands: true, scratch: scratch)
    let expectedOut = MatMulReference.forward(inp: round(x), weight: round(w), rows: n, inDim: i, outDim: o)
    let expected = MatMulReference.backward(dOut: round(dy), inp: round(x), weight: round(w), rows: n, inDim: i, outDim: o)
    XCTAssertNil(allClose(out.array, expectedOut, atol: 1e-5, rtol: 1e-5, "bf16 forward"))
    XCTAssertNil(allClose(dInp.array, expected.dInp, atol: 1e-5, rtol: 1e-5, "bf16 dInp"))
    XCTAssertNil(allClose(dW.array, expected.dWeight, atol: 1e-5, rtol: 1e-5, "bf16 dWeight"))
    keepAlive(wBF16, xb, dyb)
  }

  func testGemmHonoursTransposesLeadingDimensionsAndAlpha() {
    // op(A) = Aᵀ with A stored [K=3, lda=5] (M=4 used columns of 5), B [K=3, N=2] stored with ldb=3.
    let (m, n, k) = (4, 2, 3)
    let a = randomArray(k * 5, seed: 11), b = randomArray(k * 3, seed: 12)
    var expected = [Double](repeating: 0, count: m * n)
    for r in 0..<m { for c in 0..<n { for j in 0..<k { expected[r * n + c] += 0.5 * a[j * 5 + r] * b[j * 3 + c] } } }
    let ab = buffer(a), bb = buffer(b)
    let c = AlignedBuffer<Float>(count: m * n, category: .scratch)
    Gemm.f32(transA: true, transB: false, m: m, n: n, k: k, alpha: 0.5, a: ab.pointer, lda: 5, b: bb.pointer, ldb: 3, c: c.pointer, ldc: n)
    XCTAssertNil(allClose(c.array, expected, atol: 1e-6, rtol: 1e-6, "f32 transA"))
    let abf = AlignedBuffer<BFloat16>(a.map { BFloat16(Float($0)) }, category: .scratch)
    let bbf = AlignedBuffer<BFloat16>(b.map { BFloat16(Float($0)) }, category: .scratch)
    let cbf = AlignedBuffer<Float>(count: m * n, category: .scratch)
    Gemm.bf16(transA: true, transB: false, m: m, n: n, k: k, alpha: 0.5, a: abf.pointer, lda: 5, b: bbf.pointer, ldb: 3, c: cbf.pointer, ldc: n)
    XCTAssertNil(allClose(cbf.array, expected, atol: 2e-2, rtol: 2e-2, "bf16 transA"))
    keepAlive(ab, bb, abf, bbf)
  }

  // MARK: Embedding

  func testEmbeddingForwardAndScatterAddBackward() {
    let (vocab, channels) = (11, 19)
    let tokens: [Int32] = [3, 0, 3, 10, 7, 3, 0]
    let table = randomArray(vocab * channels, seed: 13), dy = randomArray(tokens.count * channels, seed: 14)
    let tableB = buffer(table), dyb = buffer(dy)
    let tokB = AlignedBuffer<Int32>(tokens, category: .scratch)
    let out = AlignedBuffer<Float>(count: tokens.count * channels, category: .scratch)
    Embedding.forward(out: out.pointer, tokens: tokB.pointer, table: .f32(tableB.pointer), rows: tokens.count, channels: channels, vocab: vocab)
    XCTAssertNil(allClose(out.array, EmbeddingReference.forward(tokens: tokens, table: table, channels: channels), atol: 0, rtol: 1e-7, "forward"))
    let prior = randomArray(vocab * channels, seed: 15)
    let dTable = buffer(prior)
    Embedding.backward(dTable: dTable.pointer, dOut: dyb.pointer, tokens: tokB.pointer, rows: tokens.count, channels: channels)
    let expected = EmbeddingReference.backward(dOut: dy, tokens: tokens, vocab: vocab, channels: channels)
    XCTAssertNil(allClose(dTable.array, zip(prior, expected).map(+), atol: 1e-6, rtol: 1e-6, "backward accumulates"))

    let tableBF16 = AlignedBuffer<BFloat16>(table.map { BFloat16(Float($0)) }, category: .scratch)
    Embedding.forward(out: out.pointer, tokens: tokB.pointer, table: .bf16(tableBF16.pointer), rows: tokens.count, channels: channels, vocab: vocab)
    let rounded = table.map { Double(BFloat16(Float($0)).float) }
    XCTAssertNil(allClose(out.array, EmbeddingReference.forward(tokens: tokens, table: rounded, channels: channels), atol: 0, rtol: 0, "bf16 forward"))
    keepAlive(tableB, dyb, tokB, tableBF16)
  }

  // MARK: RMSNorm

  func testRMSNormReferenceBackwardMatchesFiniteDifferences() {
    let (n, c, eps) = (3, 7, 1e-5)
    let x = randomArray(n * c, seed: 16), w = randomArray(c, seed: 17, in: 0.5...1.5)
    let probe = randomArray(n * c, seed: 18)
    let grads = RMSNormReference.backward(dOut: probe, inp: x, weight: w, rows: n, channels: c, eps: eps)
    let loss = { (x: [Double], w: [Double]) in
      dot(RMSNormReference.forward(inp: x, weight: w, rows: n, channels: c, eps: eps).out, probe)
    }
    XCTAssertNil(allClose(grads.dInp, numericGradient(of: { loss($0, w) }, at: x), atol: 1e-7, rtol: 1e-6, "dInp"))
    XCTAssertNil(allClose(grads.dWeight, numericGradient(of: { loss(x, $0) }, at: w), atol: 1e-7, rtol: 1e-6, "dWeight"))
  }

  func testRMSNormMatchesReference() {
    for (n, c) in [(5, 37), (16, 576), (3, 1)] {
      let eps: Float = 1e-5
      let x = randomArray(n * c, seed: 19), w = randomArray(c, seed: 20, in: 0.5...1.5)
      let dy = randomArray(n * c, seed: 21), prior = randomArray(n * c, seed: 22)
      let ref = RMSNormReference.forward(inp: x, weight: w, rows: n, channels: c, eps: Double(eps))
      let refGrads = RMSNormReference.backward(dOut: dy, inp: x, weight: w, rows: n, channels: c, eps: Double(eps))
      let xb = buffer(x), wb = buffer(w), dyb = buffer(dy), dInp = buffer(prior)
      let out = AlignedBuffer<Float>(count: n * c, category: .scratch)
      let rstd = AlignedBuffer<Float>(count: n, category: .scratch)
      let dW = AlignedBuffer<Float>(count: c, category: .scratch)
      dW.fill(.nan)
      RMSNorm.forward(out: out.pointer, rstd: rstd.pointer, inp: xb.pointer, weight: wb.pointer, rows: n, channels: c, eps: eps)
      RMSNorm.backward(dInp: dInp.pointer, dWeight: dW.pointer, dOut: dyb.pointer, inp: xb.pointer, weight: wb.pointer, rstd: rstd.pointer, rows: n, channels: c)
      let tag = "N=\(n) C=\(c)"
      XCTAssertNil(allClose(out.array, ref.out, atol: 1e-6, rtol: 1e-5, "out \(tag)"))
      XCTAssertNil(allClose(rstd.array, ref.rstd, atol: 1e-6, rtol: 1e-5, "rstd \(tag)"))
      XCTAssertNil(allClose(dInp.array, zip(prior, refGrads.dInp).map(+), atol: 1e-5, rtol: 1e-4, "dInp \(tag)"))
      XCTAssertNil(allClose(dW.array, refGrads.dWeight, atol: 1e-5, rtol: 1e-4, "dWeight \(tag)"))
      keepAlive(xb, wb, dyb)
    }
  }

  // MARK: RoPE

  func testRoPEMatchesReferenceAndBackwardMatchesFiniteDifferences() {
    let (b, t, h, d) = (2, 7, 3, 10)
    for (theta, offset) in [(10_000.0, 0), (500_000.0, 5)] {
      let table = RoPETable(headDim: d, maxPositions: 32, theta: Float(theta))
      let x = randomArray(b * t * h * d, seed: 23)
      let xb = buffer(x)
      RoPE.forward(xb.pointer, table: table, batch: b, time: t, heads: h, headDim: d, positionOffset: offset)
      let expected = RoPEReference.forward(x, batch: b, time: t, heads: h, headDim: d, theta: theta, positionOffset: offset)
      XCTAssertNil(allClose(xb.array, expected, atol: 1e-5, rtol: 1e-5, "forward theta=\(theta)"))

      let probe = randomArray(x.count, seed: 24)
      let numeric = numericGradient(of: {
        dot(RoPEReference.forward($0, batch: b, time: t, heads: h, headDim: d, theta: theta, positionOffset: offset), probe)
      }, at: x)
      let grad = buffer(probe)
      RoPE.backward(grad.pointer, table: table, batch: b, time: t, heads: h, headDim: d, positionOffset: offset)
      XCTAssertNil(allClose(grad.array, numeric, atol: 1e-5, rtol: 1e-5, "backward theta=\(theta)"))
    }
  }

  // MARK: SwiGLU

  func testSwiGLUReferenceBackwardMatchesFiniteDifferences() {
    let g = randomArray(9, seed: 25, in: -6...6), u = randomArray(9, seed: 26), probe = randomArray(9, seed: 27)
    let grads = SwiGLUReference.backward(dOut: probe, gate: g, up: u)
    let loss = { (g: [Double], u: [Double]) in dot(SwiGLUReference.forward(gate: g, up: u), probe) }
    XCTAssertNil(allClose(grads.dGate, numericGradient(of: { loss($0, u) }, at: g), atol: 1e-8, rtol: 1e-6, "dGate"))
    XCTAssertNil(allClose(grads.dUp, numericGradient(of: { loss(g, $0) }, at: u), atol: 1e-8, rtol: 1e-6, "dUp"))
  }

  func testSwiGLUMatchesReference() {
    let count = 16 * 70 + 5  // vector blocks plus a scalar tail
    let g = randomArray(count, seed: 28, in: -20...20), u = randomArray(count, seed: 29)
    let dy = randomArray(count, seed: 30), priorG = randomArray(count, seed: 31), priorU = randomArray(count, seed: 32)
    let gb = buffer(g), ub = buffer(u), dyb = buffer(dy), dG = buffer(priorG), dU = buffer(priorU)
    let out = AlignedBuffer<Float>(count: count, category: .scratch)
    SwiGLU.forward(out: out.pointer, gate: gb.pointer, up: ub.pointer, count: count)
    SwiGLU.backward(dGate: dG.pointer, dUp: dU.pointer, dOut: dyb.pointer, gate: gb.pointer, up: ub.pointer, count: count)
    let ref = SwiGLUReference.backward(dOut: dy, gate: g, up: u)
    XCTAssertNil(allClose(out.array, SwiGLUReference.forward(gate: g, up: u), atol: 1e-6, rtol: 1e-5, "forward"))
    XCTAssertNil(allClose(dG.array, zip(priorG, ref.dGate).map(+), atol: 1e-6, rtol: 1e-5, "dGate"))
    XCTAssertNil(allClose(dU.array, zip(priorU, ref.dUp).map(+), atol: 1e-6, rtol: 1e-5, "dUp"))
    keepAlive(gb, ub, dyb)
  }
}
