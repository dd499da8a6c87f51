import Foundation

/// Naive Double-precision references of the elementwise and linear kernels, written for
/// clarity: tests check the fast f32 kernels against them and check their backward passes by
/// finite differences. Layouts and accumulate/overwrite rules mirror the fast kernels, but
/// every function returns fresh arrays (gradients are never accumulated here).

public enum MatMulReference {
  /// out[N, O] = inp[N, I] · W[O, I]ᵀ
  public static func forward(inp: [Double], weight: [Double], rows: Int, inDim: Int, outDim: Int)
    -> [Double]
  {
    var out = [Double](repeating: 0, count: rows * outDim)
    for n in 0..<rows {
      for o in 0..<outDim {
        var s = 0.0
        for i in 0..<inDim { s += inp[n * inDim + i] * weight[o * inDim + i] }
        out[n * outDim + o] = s
      }
    }
    return out
  }

  /// (dInp [N, I], dWeight [O, I]) for upstream dOut [N, O].
  public static func backward(
    dOut: [Double], inp: [Double], weight: [Double], rows: Int, inDim: Int, outDim: Int
  ) -> (dInp: [Double], dWeight: [Double]) {
    var dInp = [Double](repeating: 0, count: rows * inDim)
    var dWeight = [Double](repeating: 0, count: outDim * inDim)
    for n in 0..<rows {
      for o in 0..<outDim {
        let g = dOut[n * outDim + o]
        for i in 0..<inDim {
          dInp[n * inDim + i] += g * weight[o * inDim + i]
          dWeight[o * inDim + i] += g * inp[n * inDim + i]
        }
      }
    }
    return (dInp, dWeight)
  }
}

public enum EmbeddingReference {
  public static func forward(tokens: [Int32], table: [Double], channels: Int) -> [Double] {
    tokens.flatMap { t in table[Int(t) * channels..<(Int(t) + 1) * channels] }
  }

  /// dTable [V, C] for upstream dOut [N, C].
  public static func backward(dOut: [Double], tokens: [Int32], vocab: Int, channels: Int)
    -> [Double]
  {
    var dTable = [Double](repeating: 0, count: vocab * channels)
    for (n, t) in tokens.enumerated() {
      for c in 0..<channels { dTable[Int(t) * channels + c] += dOut[n * channels + c] }
    }
    return dTable
  }
}

public enum RMSNormReference {
  public static func forward(inp: [Double], weight: [Double], rows: Int, channels: Int, eps: Double)
    -> (out: [Double], rstd: [Double])
  {
    var out = [Double](repeating: 0, count: rows * channels)
    var rstd = [Double](repeating: 0, count: rows)
    for n in 0..<rows {
      let row = inp[n * channels..<(n + 1) * channels]
      let r = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(channels) + eps).squareRoot()
      rstd[n] = r
      for c in 0..<channels { out[n * channels + c] = inp[n * channels + c] * r * weight[c] }
    }
    return (out, rstd)
  }

  /// Derived directly from out = x·w / sqrt(mean(x²) + eps) by the quotient rule.
  public static func backward(
    dOut: [Double], inp: [Double], weight: [Double], rows: Int, channels: Int, eps: Double
  ) -> (dInp: [Double], dWeight: [Double]) {
    let rstd = forward(inp: inp, weight: weight, rows: rows, channels: channels, eps: eps).rstd
    var dInp = [Double](repeating: 0, count: rows * channels)
    var dWeight = [Double](repeating: 0, count: channels)
    for n in 0..<rows {
      let r = rstd[n]
      for j in 0..<channels {
        // ∂out[c]/∂x[j] = w[c]·(δ_cj·r − x[c]·x[j]·r³/C)
        var s = 0.0
        for c in 0..<channels {
          let delta: Double = c == j ? 1 : 0
          let x = inp[n * channels + c], xj = inp[n * channels + j]
          s += dOut[n * channels + c] * weight[c]
            * (delta * r - x * xj * r * r * r / Double(channels))
        }
        dInp[n * channels + j] = s
        dWeight[j] += dOut[n * channels + j] * inp[n * channels + j] * r
      }
    }
    return (dInp, dWeight)
  }
}

public enum RoPEReference {
  /// x [B, T, heads, D] rotated by angle (positionOffset + t) · theta^(−2i/D), in Double.
  public static func forward(
    _ x: [Double], batch: Int, time: Int, heads: Int, headDim: Int, theta: Double,
    positionOffset: Int = 0
  ) -> [Double] {
    var out = x
    let half = headDim / 2
    for b in 0..<batch {
      for t in 0..<time {
        for h in 0..<heads {
          let base = ((b * time + t) * heads + h) * headDim
          for i in 0..<half {
            let angle = Double(positionOffset + t) * pow(theta, -Double(2 * i) / Double(headDim))
            let a = x[base + i], c = x[base + i + half]
            out[base + i] = a * cos(angle) - c * sin(angle)
            out[base + i + half] = c * cos(angle) + a * sin(angle)
          }
        }
      }
    }
    return out
  }
}

public enum SwiGLUReference {
  static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

  public static func forward(gate: [Double], up: [Double]) -> [Double] {
    zip(gate, up).map { g, u in g * sigmoid(g) * u }
  }

  public static func backward(dOut: [Double], gate: [Double], up: [Double])
    -> (dGate: [Double], dUp: [Double])
  {
    var dGate = [Double](repeating: 0, count: gate.count)
    var dUp = dGate
    for i in gate.indices {
      let s = sigmoid(gate[i])
      dGate[i] = dOut[i] * up[i] * s * (1 + gate[i] * (1 - s))
      dUp[i] = dOut[i] * gate[i] * s
    }
    return (dGate, dUp)
  }
}
