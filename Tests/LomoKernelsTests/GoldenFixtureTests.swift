import Foundation
import LomoCore
import LomoKernels
import LomoTestSupport
import XCTest

/// Every kernel against the golden fixtures of `scripts/make_kernel_fixtures.py` (PyTorch
/// 2.13.0+cpu and transformers as the oracle). Each test compares every output and every
/// gradient; a failure names the fixture, the tensor and its worst index.
///
/// Tolerances: f32 kernels against float64 references get atol 1e-5, rtol 1e-4 (about a
/// thousand f32 ulps: room for reordered sums and fused multiply-adds, none for a wrong
/// formula). Looser or exact tolerances say why where they are used.
final class GoldenFixtureTests: XCTestCase {
  // MARK: - MatMul

  func testMatMulF32() throws {
    let g = try Golden("matmul_f32")
    let w = g.buffer("weight")  // [O, I]
    try checkMatMul(g, weight: .f32(w.pointer), bf16Operands: false, dWeight: "dweight")
  }

  /// bf16 weights: activations are rounded to bf16, products are exact and accumulated in f32.
  func testMatMulBF16() throws {
    let g = try Golden("matmul_bf16")
    let w = g.bf16Buffer("weight")  // [O, I], values already bf16 in the fixture
    try checkMatMul(g, weight: .bf16(w.pointer), bf16Operands: false, dWeight: "dweight")
    try checkMatMul(g, weight: .bf16(w.pointer), bf16Operands: true, dWeight: "dweight_bf16")
  }

  private func checkMatMul(
    _ g: Golden, weight: WeightPointer, bf16Operands: Bool, dWeight dWeightName: String
  ) throws {
    let (n, i, o) = (g.int("rows"), g.int("inDim"), g.int("outDim"))
    let scratch = GemmScratch()
    let inp = g.buffer("inp"), dOut = g.buffer("dout")  // [N, I], [N, O]
    let out = g.zeros(like: "out"), dInp = g.zeros(like: "dinp"), dW = g.zeros(like: dWeightName)
    MatMul.forward(out: out.pointer, inp: inp.pointer, weight: weight,
                   rows: n, inDim: i, outDim: o, scratch: scratch)
    MatMul.backwardInput(dInp: dInp.pointer, dOut: dOut.pointer, weight: weight,
                         rows: n, inDim: i, outDim: o, scratch: scratch)
    MatMul.backwardWeight(dWeight: dW.pointer, dOut: dOut.pointer, inp: inp.pointer,
                          rows: n, inDim: i, outDim: o, bf16Operands: bf16Operands,
                          scratch: scratch)
    g.expect(out, "out")
    g.expect(dInp, "dinp")
    g.expect(dW, dWeightName)
  }

  // MARK: - Embedding

  /// The lookup is a copy (exact); the backward sums rows of repeated tokens.
  func testEmbedding() throws {
    let g = try Golden("embedding")
    let (n, c, v) = (g.int("rows"), g.int("channels"), g.int("vocab"))
    let tokens = g.int32Buffer("tokens")  // [N]
    let table = g.buffer("table"), tableBF16 = g.bf16Buffer("table_bf16")  // [V, C]
    let out = g.zeros(like: "out"), outBF16 = g.zeros(like: "out_bf16")  // [N, C]
    let dTable = g.zeros(like: "dtable")  // [V, C]
    Embedding.forward(out: out.pointer, tokens: tokens.pointer, table: .f32(table.pointer),
                      rows: n, channels: c, vocab: v)
    Embedding.forward(out: outBF16.pointer, tokens: tokens.pointer,
                      table: .bf16(tableBF16.pointer), rows: n, channels: c, vocab: v)
    Embedding.backward(dTable: dTable.pointer, dOut: g.buffer("dout").pointer,
                       tokens: tokens.pointer, rows: n, channels: c)
    g.expectExact(out.array, "out")
    g.expectExact(outBF16.array, "out_bf16")
    g.expect(dTable, "dtable")
  }

  // MARK: - RMSNorm

  func testRMSNorm() throws {
    try checkRMSNorm("rmsnorm_c40")
    try checkRMSNorm("rmsnorm_c24")  // inputs of magnitude ~30, eps 1e-6
  }

  private func checkRMSNorm(_ name: String) throws {
    let g = try Golden(name)
    let (n, c) = (g.int("rows"), g.int("channels"))
    let inp = g.buffer("inp"), weight = g.buffer("weight")  // [N, C], [C]
    let out = g.zeros(like: "out"), rstd = g.zeros(like: "rstd")  // [N, C], [N]
    let dInp = g.zeros(like: "dinp"), dWeight = g.zeros(like: "dweight")
    RMSNorm.forward(out: out.pointer, rstd: rstd.pointer, inp: inp.pointer,
                    weight: weight.pointer, rows: n, channels: c, eps: g.float("eps"))
    RMSNorm.backward(dInp: dInp.pointer, dWeight: dWeight.pointer,
                     dOut: g.buffer("dout").pointer, inp: inp.pointer, weight: weight.pointer,
                     rstd: rstd.pointer, rows: n, channels: c)
    g.expect(out, "out")
    g.expect(rstd, "rstd")
    g.expect(dInp, "dinp")
    g.expect(dWeight, "dweight")
  }

  // MARK: - RoPE

  func testRoPE() throws {
    try checkRoPE("rope_theta1e4")
    try checkRoPE("rope_theta1e5")  // position offset 5
  }

  private func checkRoPE(_ name: String) throws {
    let g = try Golden(name)
    let (b, t, h, d) = (g.int("batch"), g.int("time"), g.int("heads"), g.int("headDim"))
    let offset = g.int("positionOffset")
    let table = RoPETable(headDim: d, maxPositions: offset + t, theta: g.float("theta"))
    let x = g.buffer("inp"), dx = g.buffer("dout")  // [B, T, heads, D], rotated in place
    RoPE.forward(x.pointer, table: table, batch: b, time: t, heads: h, headDim: d,
                 positionOffset: offset)
    RoPE.backward(dx.pointer, table: table, batch: b, time: t, heads: h, headDim: d,
                  positionOffset: offset)
    g.expect(x, "out")
    g.expect(dx, "dinp")
  }

  // MARK: - SwiGLU

  func testSwiGLU() throws {
    let g = try Golden("swiglu")
    let count = g.int("count")
    let gate = g.buffer("gate"), up = g.buffer("up")  // [count]
    let out = g.zeros(like: "out"), dGate = g.zeros(like: "dgate"), dUp = g.zeros(like: "dup")
    SwiGLU.forward(out: out.pointer, gate: gate.pointer, up: up.pointer, count: count)
    SwiGLU.backward(dGate: dGate.pointer, dUp: dUp.pointer, dOut: g.buffer("dout").pointer,
                    gate: gate.pointer, up: up.pointer, count: count)
    g.expect(out, "out")
    g.expect(dGate, "dgate")
    g.expect(dUp, "dup")
  }

  // MARK: - Attention

  func testAttention() throws {
    try checkAttention("attention_h4_kv2_t7")
    try checkAttention("attention_h3_kv1_t13")
  }

  private func checkAttention(_ name: String) throws {
    let g = try Golden(name)
    let (b, t, d) = (g.int("batch"), g.int("time"), g.int("headDim"))
    let (h, kvh) = (g.int("heads"), g.int("kvHeads"))
    let scratch = AttentionScratch()
    let q = g.buffer("q"), k = g.buffer("k"), v = g.buffer("v")  // [B, T, H|KVH, D]
    let out = g.zeros(like: "out"), lse = g.zeros(like: "lse")  // [B, T, H, D], [B, H, T]
    let dQ = g.zeros(like: "dq"), dK = g.zeros(like: "dk"), dV = g.zeros(like: "dv")
    Attention.forward(out: out.pointer, lse: lse.pointer, q: q.pointer, k: k.pointer,
                      v: v.pointer, batch: b, time: t, heads: h, kvHeads: kvh, headDim: d,
                      scratch: scratch)
    Attention.backward(dQ: dQ.pointer, dK: dK.pointer, dV: dV.pointer,
                       dOut: g.buffer("dout").pointer, q: q.pointer, k: k.pointer,
                       v: v.pointer, out: out.pointer, lse: lse.pointer, batch: b, time: t,
                       heads: h, kvHeads: kvh, headDim: d, scratch: scratch)
    g.expect(out, "out")
    g.expect(lse, "lse")
    g.expect(dQ, "dq")
    g.expect(dK, "dk")
    g.expect(dV, "dv")
  }

  // MARK: - Cross-entropy

  /// The default chunking (all rows in one chunk here) and chunks of 4 rows, which split the
  /// unmasked rows unevenly and gather around the ignored ones.
  func testCrossEntropy() throws {
    for name in ["cross_entropy_v37", "cross_entropy_v300"] {
      for rowsPerChunk in [nil, 4] { try checkCrossEntropy(name, rowsPerChunk: rowsPerChunk) }
    }
  }

  private func checkCrossEntropy(_ name: String, rowsPerChunk: Int?) throws {
    let chunks = "\(rowsPerChunk.map(String.init) ?? "default") rows per chunk"
    let g = try Golden(name, variant: chunks)
    let (n, c, v) = (g.int("rows"), g.int("channels"), g.int("vocab"))
    let scratch = CrossEntropyScratch()
    let hidden = g.buffer("hidden"), weight = g.buffer("weight")  // [N, C], [V, C]
    let targets = g.int32Buffer("targets")  // [N], -100 = ignored
    let nll = g.zeros(like: "nll"), nllBackward = g.zeros(like: "nll")  // [N]
    let dHidden = g.zeros(like: "dhidden"), dWeight = g.zeros(like: "dweight")
    let lossOnly = CrossEntropy.forward(
      nll: nll.pointer, hidden: hidden.pointer, weight: .f32(weight.pointer),
      targets: targets.pointer, rows: n, channels: c, vocab: v, scratch: scratch,
      rowsPerChunk: rowsPerChunk)
    let result = CrossEntropy.forwardBackward(
      dHidden: dHidden.pointer, dWeight: dWeight.pointer, nll: nllBackward.pointer,
      hidden: hidden.pointer, weight: .f32(weight.pointer), targets: targets.pointer,
      rows: n, channels: c, vocab: v, gradScale: nil, scratch: scratch,
      rowsPerChunk: rowsPerChunk)
    for r in [lossOnly, result] {
      XCTAssertEqual(r.tokenCount, g.int("tokenCount"), g.label)
      g.expect([r.meanLoss], "loss")
    }
    g.expect(nll, "nll")
    g.expect(nllBackward, "nll")
    g.expect(dHidden, "dhidden")
    g.expect(dWeight, "dweight")
  }

  // MARK: - Conversions

  /// Bit-exact: round to nearest even is fully specified, including ties, overflow to
  /// infinity, subnormals and signed zero.
  func testConversions() throws {
    let g = try Golden("conversions")
    let count = g.int("count")
    let inp = g.buffer("inp")
    let bf16 = g.zeros(count, of: BFloat16.self), f16 = g.zeros(count, of: Float16.self)
    Convert.toBF16(bf16.pointer, inp.pointer, count: count)
    Convert.toF16(f16.pointer, inp.pointer, count: count)
    g.expectExact(bf16.array.map { Float($0.bitPattern) }, "bf16_bits")
    g.expectExact(f16.array.map { Float($0.bitPattern) }, "f16_bits")
  }
}

/// A loaded fixture with the buffers and comparisons the tests need.
///
/// Golden owns every buffer it hands out, so the memory behind `buffer.pointer` lives as long
/// as the fixture: Swift may free an object right after its last use, which for
/// `g.buffer("dout").pointer` (or a local whose only use is `.pointer`) would be before the
/// kernel reads it. Every test uses `g` after its kernel calls.
private final class Golden {
  /// The fixture's name, and the variant of the run where a test has several: named in
  /// every failure message.
  let label: String
  let fixture: Fixture
  private var owned: [AnyObject] = []

  init(_ name: String, variant: String? = nil) throws {
    let url = try XCTUnwrap(
      Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
      "missing fixture \(name).json: run scripts/make_kernel_fixtures.py")
    label = variant.map { "\(name) (\($0))" } ?? name
    fixture = try Fixture(contentsOf: url)
  }

  func int(_ key: String) -> Int { fixture.int(key) }
  func float(_ key: String) -> Float { fixture.float(key) }

  /// A copy of tensor `tensor`, for a kernel to read (or to transform in place).
  func buffer(_ tensor: String) -> AlignedBuffer<Float> {
    own(AlignedBuffer(fixture.data(tensor), category: .activations))
  }

  /// Tensor `tensor` stored as bf16; its fixture values must be bf16-exact.
  func bf16Buffer(_ tensor: String) -> AlignedBuffer<BFloat16> {
    let values = fixture.data(tensor).map { BFloat16($0) }
    precondition(zip(values, fixture.data(tensor)).allSatisfy { $0.float == $1 },
                 "\(label).\(tensor) is not bf16-exact")
    return own(AlignedBuffer(values, category: .parameters))
  }

  /// Integer tensor `tensor` (token ids, targets) as Int32.
  func int32Buffer(_ tensor: String) -> AlignedBuffer<Int32> {
    own(AlignedBuffer(fixture.data(tensor).map { Int32(exactly: $0)! }, category: .activations))
  }

  /// Zeros shaped like tensor `tensor`: an output, or a gradient to accumulate into.
  func zeros(like tensor: String) -> AlignedBuffer<Float> {
    zeros(fixture.data(tensor).count)
  }

  func zeros<T: BitwiseCopyable>(_ count: Int, of: T.Type = Float.self) -> AlignedBuffer<T> {
    own(AlignedBuffer(count: count, category: .activations))
  }

  private func own<B: AnyObject>(_ buffer: B) -> B {
    owned.append(buffer)
    return buffer
  }

  func expect(
    _ actual: AlignedBuffer<Float>, _ tensor: String, atol: Double = 1e-5, rtol: Double = 1e-4,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    expect(actual.array, tensor, atol: atol, rtol: rtol, file: file, line: line)
  }

  func expect(
    _ actual: [Float], _ tensor: String, atol: Double = 1e-5, rtol: Double = 1e-4,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertNil(
      allClose(actual, fixture.data(tensor), atol: atol, rtol: rtol, "\(label).\(tensor)"),
      file: file, line: line)
  }

  func expectExact(
    _ actual: [Float], _ tensor: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    expect(actual, tensor, atol: 0, rtol: 0, file: file, line: line)
  }
}
