import LomoCore

/// The gated activation of LLaMA's MLP, elementwise over `count` = N·F values:
///
/// - `forward`:  out = silu(gate) · up, silu(g) = g · σ(g)                 (overwrites out)
/// - `backward`: dGate += dOut · up · σ(g) · (1 + g · (1 − σ(g)))
///               dUp   += dOut · silu(g)                                   (accumulate)
///
/// σ uses `VectorMath.exp` (within 2 ulp of e^x).
public enum SwiGLU {
  public static func forward(
    out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
    count: Int
  ) {
    VectorMath.elementwise(count) { i in
      let g = VectorMath.load(gate + i)
      let sigmoid = 1 / (1 + VectorMath.exp(-g))
      VectorMath.store(g * sigmoid * VectorMath.load(up + i), out + i)
    } scalar: { i in
      let g = gate[i]
      let sigmoid = 1 / (1 + VectorMath.exp(-g))
      out[i] = g * sigmoid * up[i]
    }
  }

  public static func backward(
    dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
    dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
  ) {
    VectorMath.elementwise(count) { i in
      let g = VectorMath.load(gate + i)
      let dy = VectorMath.load(dOut + i)
      let sigmoid = 1 / (1 + VectorMath.exp(-g))
      let silu = g * sigmoid
      let dSilu = sigmoid * (1 + g * (1 - sigmoid))
      VectorMath.store(VectorMath.load(dGate + i) + dy * VectorMath.load(up + i) * dSilu, dGate + i)
      VectorMath.store(VectorMath.load(dUp + i) + dy * silu, dUp + i)
    } scalar: { i in
      let g = gate[i]
      let sigmoid = 1 / (1 + VectorMath.exp(-g))
      dGate[i] += dOut[i] * up[i] * sigmoid * (1 + g * (1 - sigmoid))
      dUp[i] += dOut[i] * g * sigmoid
    }
  }
}
