import LomoCore
import LomoKernels

/// Storage type of the GEMM operands being timed.
enum BenchDType: String, CaseIterable, Codable, Sendable {
  /// f32 × f32 through `dnnl_sgemm`.
  case f32
  /// bf16 weights (dW: bf16 operands), activations rounded to bf16 inside `MatMul`, f32 output.
  case bf16
}

/// The operands of one linear layer at `rows` rows, filled with uniform values in [-1, 1),
/// and the `MatMul` calls that time its three products.
///
/// Buffers are 64-byte aligned and first touched (zeroed, then filled) by the calling thread,
/// as the C driver `bench/sgemm_c.c` does. They are accounted in a ledger of their own, so
/// measuring the peak beside a loaded model leaves the model's ledger as it was.
final class LinearBench {
  let layer: LinearLayer
  let rows: Int
  private let inp: AlignedBuffer<Float>  // [N, I]
  private let weight: AlignedBuffer<Float>  // [O, I]
  private let weightBF16: AlignedBuffer<BFloat16>  // [O, I]
  private let out: AlignedBuffer<Float>  // [N, O]
  private let dOut: AlignedBuffer<Float>  // [N, O]
  private let dInp: AlignedBuffer<Float>  // [N, I]
  private let dWeight: AlignedBuffer<Float>  // [O, I]
  private let scratch: GemmScratch

  init(_ layer: LinearLayer, rows: Int, rng: inout Xoshiro256) {
    self.layer = layer
    self.rows = rows
    let (i, o) = (layer.inDim, layer.outDim)
    let ledger = MemoryLedger()
    inp = .random(count: rows * i, category: .activations, ledger: ledger, rng: &rng)
    weight = .random(count: o * i, category: .parameters, ledger: ledger, rng: &rng)
    dOut = .random(count: rows * o, category: .activations, ledger: ledger, rng: &rng)
    weightBF16 = AlignedBuffer(count: o * i, category: .parameters, ledger: ledger)
    Convert.toBF16(weightBF16.pointer, weight.pointer, count: o * i)
    out = AlignedBuffer(count: rows * o, category: .activations, ledger: ledger)
    dInp = AlignedBuffer(count: rows * i, category: .activations, ledger: ledger)
    dWeight = AlignedBuffer(count: o * i, category: .gradients, ledger: ledger)
    scratch = GemmScratch(ledger: ledger)
  }

  /// Seconds of each of `repeats` calls of `layout` in `dtype`, after one warm-up call.
  func samples(_ layout: GemmLayout, _ dtype: BenchDType, repeats: Int) -> [Double] {
    Stopwatch.samples(repeats: repeats) { run(layout, dtype) }
  }

  private func run(_ layout: GemmLayout, _ dtype: BenchDType) {
    let (i, o) = (layer.inDim, layer.outDim)
    let w: WeightPointer = switch dtype {
    case .f32: .f32(weight.pointer)
    case .bf16: .bf16(weightBF16.pointer)
    }
    switch layout {
    case .forward:
      MatMul.forward(out: out.pointer, inp: inp.pointer, weight: w,
                     rows: rows, inDim: i, outDim: o, scratch: scratch)
    case .dInp:
      MatMul.backwardInput(dInp: dInp.pointer, dOut: dOut.pointer, weight: w,
                           rows: rows, inDim: i, outDim: o, scratch: scratch)
    case .dW:
      MatMul.backwardWeight(dWeight: dWeight.pointer, dOut: dOut.pointer, inp: inp.pointer,
                            rows: rows, inDim: i, outDim: o, bf16Operands: dtype == .bf16,
                            scratch: scratch)
    }
  }

  /// Best seconds of `repeats` raw `Gemm.bf16` forward products (`inp · Wᵀ`) on operands
  /// converted to bf16 beforehand: the bf16 GEMM throughput without `MatMul`'s conversion.
  func bestRawBF16Forward(repeats: Int) -> Double {
    let (i, o) = (layer.inDim, layer.outDim)
    let x = AlignedBuffer<BFloat16>(count: rows * i, category: .scratch)  // [N, I]
    Convert.toBF16(x.pointer, inp.pointer, count: rows * i)
    return Stopwatch.samples(repeats: repeats) {
      Gemm.bf16(transA: false, transB: true, m: rows, n: o, k: i,
                a: x.pointer, lda: i, b: weightBF16.pointer, ldb: i, c: out.pointer, ldc: o)
    }.min()!
  }
}

extension AlignedBuffer where Element == Float {
  /// A buffer of `count` values drawn uniformly from [-1, 1).
  fileprivate static func random(
    count: Int, category: MemoryCategory, ledger: MemoryLedger, rng: inout Xoshiro256
  ) -> AlignedBuffer<Float> {
    let b = AlignedBuffer<Float>(count: count, category: category, ledger: ledger)
    for j in 0..<count { b.pointer[j] = Float.random(in: -1..<1, using: &rng) }
    return b
  }
}
