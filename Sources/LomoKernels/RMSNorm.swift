import LomoCore

/// Root-mean-square normalisation with a learned scale (LLaMA's RMSNorm). Rows N = B*T.
///
/// - `forward`:  rstd[n] = 1 / sqrt(mean_c(inp[n, c]²) + eps);
///               out[n, c] = inp[n, c] · rstd[n] · weight[c]          (overwrites out, rstd)
/// - `backward`: dInp[N, C] += ∂L/∂inp                                (accumulates)
///               dWeight[C]  = Σ_n dOut[n, c] · inp[n, c] · rstd[n]   (overwrites, or adds
///                                                                    to it with `accumulateWeight`)
///
/// f32 throughout with f32 accumulation, like transformers' LlamaRMSNorm on f32 weights.
public enum RMSNorm {
  public static func forward(
    out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
    inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, channels: Int, eps: Float
  ) {
    Threads.parallelFor(rows, minChunk: 8) { range in
      for n in range {
        let x = inp + n * channels
        let y = out + n * channels
        let r = reciprocalRMS(x, channels: channels, eps: eps)
        rstd[n] = r
        for c in 0..<channels { y[c] = x[c] * r * weight[c] }
      }
    }
  }

  /// `forward`'s rstd alone (the same values): when only backward's statistics are needed.
  public static func reciprocalRMS(
    rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows: Int, channels: Int, eps: Float
  ) {
    Threads.parallelFor(rows, minChunk: 8) { range in
      for n in range { rstd[n] = reciprocalRMS(inp + n * channels, channels: channels, eps: eps) }
    }
  }

  /// 1 / sqrt(mean(x²) + eps) of one row.
  @inline(__always)
  static func reciprocalRMS(_ x: UnsafePointer<Float>, channels: Int, eps: Float) -> Float {
    1 / (VectorMath.sumOfSquares(x, channels) / Float(channels) + eps).squareRoot()
  }

  /// With x̂ = inp·rstd and g = dOut·weight:
  /// dInp = rstd · (g − x̂ · mean_c(g · x̂)).
  public static func backward(
    dInp: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
    dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rstd: UnsafePointer<Float>, rows: Int, channels: Int, accumulateWeight: Bool = false
  ) {
    Threads.parallelFor(rows, minChunk: 8) { range in
      for n in range {
        let x = inp + n * channels
        let dy = dOut + n * channels
        let dx = dInp + n * channels
        let r = rstd[n]
        var gxSum: Float = 0
        for c in 0..<channels { gxSum += dy[c] * weight[c] * x[c] }
        let coefficient = gxSum * r * r / Float(channels)
        for c in 0..<channels { dx[c] += r * (dy[c] * weight[c] - x[c] * coefficient) }
      }
    }
    // Column sums over rows: parallel over channel slices so no two threads share an output.
    Threads.parallelFor(channels, minChunk: 64) { cols in
      if !accumulateWeight { for c in cols { dWeight[c] = 0 } }
      for n in 0..<rows {
        let x = inp + n * channels
        let dy = dOut + n * channels
        let r = rstd[n]
        for c in cols { dWeight[c] += dy[c] * x[c] * r }
      }
    }
  }
}
