import LomoCore

/// A learned bias added to every row of a linear layer's output (Qwen2's q, k and v
/// projections). Rows N = B·T, columns = the output width.
///
/// - `forward`:  out[n, c] += bias[c]                                   (in place)
/// - `backward`: dBias[c] = Σ_n dOut[n, c]   (overwrites, or adds to it with `accumulate`)
///
/// f32 with f32 accumulation, summed in row order (as PyTorch's CPU reduction is not: the
/// sums agree to rounding).
public enum Bias {
  public static func forward(out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, columns: Int) {
    Threads.parallelFor(rows, minChunk: 16) { range in
      for n in range {
        let y = out + n * columns
        for c in 0..<columns { y[c] += bias[c] }
      }
    }
  }

  public static func backward(
    dBias: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, rows: Int, columns: Int, accumulate: Bool = false
  ) {
    // Parallel over column slices, so no two threads share an output.
    Threads.parallelFor(columns, minChunk: 64) { cols in
      if !accumulate { for c in cols { dBias[c] = 0 } }
      for n in 0..<rows {
        let g = dOut + n * columns
        for c in cols { dBias[c] += g[c] }
      }
    }
  }
}
