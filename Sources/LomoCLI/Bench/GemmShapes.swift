/// The GEMMs of one training step of SmolLM2-135M (C=576, 9 heads and 3 KV heads of D=64,
/// F=1536, V=49152), at N = B·T rows.

/// A linear layer `out[N, O] = inp[N, I] · W[O, I]ᵀ` of SmolLM2-135M.
struct LinearLayer: Sendable {
  var name: String
  var inDim: Int
  var outDim: Int

  /// Every distinct linear-layer shape, in the order of the forward pass.
  static let smolLM2_135M: [LinearLayer] = [
    LinearLayer(name: "q/o proj", inDim: 576, outDim: 576),
    LinearLayer(name: "k/v proj", inDim: 576, outDim: 192),
    LinearLayer(name: "gate/up", inDim: 576, outDim: 1536),
    LinearLayer(name: "down", inDim: 1536, outDim: 576),
    LinearLayer(name: "lm head", inDim: 576, outDim: 49152),
  ]
}

/// The three products of a linear layer in training, as `MatMul` computes them.
enum GemmLayout: String, CaseIterable, Codable, Sendable {
  /// out = inp · Wᵀ: M = N rows, N = O, K = I.
  case forward
  /// dInp += dOut · W: M = N rows, N = I, K = O.
  case dInp
  /// dW = dOutᵀ · inp: M = O, N = I, K = N rows.
  case dW

  /// GEMM dimensions (M, N, K) of this product for `layer` at `rows` rows.
  func dims(_ layer: LinearLayer, rows: Int) -> (m: Int, n: Int, k: Int) {
    switch self {
    case .forward: (rows, layer.outDim, layer.inDim)
    case .dInp: (rows, layer.inDim, layer.outDim)
    case .dW: (layer.outDim, layer.inDim, rows)
    }
  }
}
