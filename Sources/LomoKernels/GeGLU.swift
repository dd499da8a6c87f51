import LomoCore

/// The gated activation of Gemma's MLP, elementwise over `count` = N·F values, with GELU's
/// tanh approximation (PyTorch's `gelu(approximate="tanh")`, transformers' gelu_pytorch_tanh):
///
/// - `forward`:  out = gelu(gate) · up, gelu(g) = g/2 · (1 + tanh(z)),
///               z = sqrt(2/π) · (g + 0.044715 g³)                          (overwrites out)
/// - `backward`: dGate += dOut · up · gelu′(g),
///               gelu′(g) = (1 + t)/2 + g/2 · (1 − t²) · sqrt(2/π) · (1 + 3 · 0.044715 g²)
///               dUp   += dOut · gelu(g)                                    (accumulate)
///
/// tanh(z) = 1 − 2 / (e^(2z) + 1) with `VectorMath.exp` (saturating to ±1 for large |z|).
public enum GeGLU {
  static let k: Float = (2 / Float.pi).squareRoot()
  static let cubic: Float = 0.044715

  public static func forward(
    out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
  ) {
    VectorMath.elementwise(count) { i in
      let g = VectorMath.load(gate + i)
      VectorMath.store(gelu(g, tanh(g)) * VectorMath.load(up + i), out + i)
    } scalar: { i in
      let g = VectorMath.Vec(repeating: gate[i])
      out[i] = gelu(g, tanh(g))[0] * up[i]
    }
  }

  public static func backward(
    dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
    dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
  ) {
    VectorMath.elementwise(count) { i in
      let g = VectorMath.load(gate + i), dy = VectorMath.load(dOut + i), t = tanh(g)
      VectorMath.store(VectorMath.load(dGate + i) + dy * VectorMath.load(up + i) * derivative(g, t), dGate + i)
      VectorMath.store(VectorMath.load(dUp + i) + dy * gelu(g, t), dUp + i)
    } scalar: { i in
      let g = VectorMath.Vec(repeating: gate[i]), t = tanh(g)
      dGate[i] += dOut[i] * up[i] * derivative(g, t)[0]
      dUp[i] += dOut[i] * gelu(g, t)[0]
    }
  }

  /// tanh(sqrt(2/π) · (g + 0.044715 g³)).
  @inline(__always)
  static func tanh(_ g: VectorMath.Vec) -> VectorMath.Vec {
    let z: VectorMath.Vec = k * (g + cubic * g * g * g)
    let e: VectorMath.Vec = VectorMath.exp(2 * z) + 1
    return 1 - 2 / e
  }

  @inline(__always)
  static func gelu(_ g: VectorMath.Vec, _ t: VectorMath.Vec) -> VectorMath.Vec { 0.5 * g * (1 + t) }

  @inline(__always)
  static func derivative(_ g: VectorMath.Vec, _ t: VectorMath.Vec) -> VectorMath.Vec {
    let half = VectorMath.Vec(repeating: 0.5), one = VectorMath.Vec(repeating: 1)
    let inner: VectorMath.Vec = k * (one + (3 * cubic) * g * g)
    let sech2: VectorMath.Vec = one - t * t
    return half * (one + t) + half * g * sech2 * inner
  }
}
