import LomoCore

/// A linear layer without bias, in the three layouts of training. Rows N = B*T.
///
/// - `forward`:        out[N, O]      = inp[N, I] · W[O, I]ᵀ        (overwrites out, or adds to
///                                                                   it with `accumulate`)
/// - `backwardInput`:  dInp[N, I]    += dOut[N, O] · W[O, I]         (accumulates, or
///                                                                   overwrites without `accumulate`)
/// - `backwardWeight`: dWeight[O, I]  = dOut[N, O]ᵀ · inp[N, I]      (overwrites, or adds to
///                                                                   it with `accumulate`)
///
/// With bf16 weights the f32 activation operands are rounded to bf16 (nearest even) into
/// `scratch`, and oneDNN multiplies bf16 x bf16 with f32 accumulation.
public enum MatMul {
  public static func forward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: WeightPointer,
    rows: Int, inDim: Int, outDim: Int, accumulate: Bool = false, scratch: GemmScratch
  ) {
    let beta: Float = accumulate ? 1 : 0
    switch weight {
    case .f32(let w):
      Gemm.f32(transA: false, transB: true, m: rows, n: outDim, k: inDim,
               a: inp, lda: inDim, b: w, ldb: inDim, beta: beta, c: out, ldc: outDim)
    case .bf16(let w):
      let x = scratch.first.pointer(count: rows * inDim)
      Convert.toBF16(x, inp, count: rows * inDim)
      Gemm.bf16(transA: false, transB: true, m: rows, n: outDim, k: inDim,
                a: x, lda: inDim, b: w, ldb: inDim, beta: beta, c: out, ldc: outDim)
    }
  }

  public static func backwardInput(
    dInp: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, weight: WeightPointer,
    rows: Int, inDim: Int, outDim: Int, accumulate: Bool = true, scratch: GemmScratch
  ) {
    let beta: Float = accumulate ? 1 : 0
    switch weight {
    case .f32(let w):
      Gemm.f32(transA: false, transB: false, m: rows, n: inDim, k: outDim,
               a: dOut, lda: outDim, b: w, ldb: inDim, beta: beta, c: dInp, ldc: inDim)
    case .bf16(let w):
      let g = scratch.first.pointer(count: rows * outDim)
      Convert.toBF16(g, dOut, count: rows * outDim)
      Gemm.bf16(transA: false, transB: false, m: rows, n: inDim, k: outDim,
                a: g, lda: outDim, b: w, ldb: inDim, beta: beta, c: dInp, ldc: inDim)
    }
  }

  /// `bf16Operands` rounds dOut and inp to bf16 first (the precision of bf16 training, about
  /// twice the GEMM speed); otherwise the product is f32.
  public static func backwardWeight(
    dWeight: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>,
    rows: Int, inDim: Int, outDim: Int, bf16Operands: Bool = false, accumulate: Bool = false,
    scratch: GemmScratch
  ) {
    let beta: Float = accumulate ? 1 : 0
    if bf16Operands {
      let g = scratch.first.pointer(count: rows * outDim)
      let x = scratch.second.pointer(count: rows * inDim)
      Convert.toBF16(g, dOut, count: rows * outDim)
      Convert.toBF16(x, inp, count: rows * inDim)
      Gemm.bf16(transA: true, transB: false, m: outDim, n: inDim, k: rows,
                a: g, lda: outDim, b: x, ldb: inDim, beta: beta, c: dWeight, ldc: inDim)
    } else {
      Gemm.f32(transA: true, transB: false, m: outDim, n: inDim, k: rows,
               a: dOut, lda: outDim, b: inp, ldb: inDim, beta: beta, c: dWeight, ldc: inDim)
    }
  }
}
