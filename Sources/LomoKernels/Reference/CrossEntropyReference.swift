import Foundation

/// Naive LM head + softmax cross-entropy with explicit `[N, V]` logits, for tests (use Double
/// for finite differences). Same contract as `CrossEntropy`: targets < 0 are ignored rows,
/// `loss = gradScale · Σ_unmasked nll` with gradScale nil → 1/tokenCount.
public enum CrossEntropyReference {
  public struct Output<T: BinaryFloatingPoint> {
    public var logits: [T]      // [N, V]
    public var nll: [T]         // [N], 0 for ignored rows
    public var lossSum: T       // Σ_unmasked nll
    public var tokenCount: Int
    public var loss: T          // gradScale · lossSum
    public var dHidden: [T]     // [N, C] = ∂loss/∂hidden
    public var dWeight: [T]     // [V, C] = ∂loss/∂weight
  }

  /// hidden [N, C], weight [V, C], targets [N].
  public static func forwardBackward<T: BinaryFloatingPoint>(
    hidden: [T], weight: [T], targets: [Int32], rows N: Int, channels C: Int, vocab V: Int,
    gradScale: T? = nil
  ) -> Output<T> {
    precondition(hidden.count == N * C && weight.count == V * C && targets.count == N)
    var logits = [T](repeating: 0, count: N * V)
    for n in 0..<N {
      for v in 0..<V {
        var s: T = 0
        for c in 0..<C { s += hidden[n * C + c] * weight[v * C + c] }
        logits[n * V + v] = s
      }
    }
    let tokenCount = targets.filter { $0 >= 0 }.count
    let scale = gradScale ?? (tokenCount > 0 ? 1 / T(tokenCount) : 0)
    var nll = [T](repeating: 0, count: N)
    var dLogits = [T](repeating: 0, count: N * V)
    var lossSum: T = 0
    for n in 0..<N where targets[n] >= 0 {
      let t = Int(targets[n])
      precondition(t < V, "target \(t) out of range")
      let row = logits[(n * V)..<(n * V + V)]
      let mx = row.max()!
      let exps = row.map { T(exp(Double($0 - mx))) }
      let sum = exps.reduce(0, +)
      nll[n] = T(log(Double(sum))) + mx - row[n * V + t]
      lossSum += nll[n]
      for v in 0..<V { dLogits[n * V + v] = scale * (exps[v] / sum - (v == t ? 1 : 0)) }
    }
    var dHidden = [T](repeating: 0, count: N * C)
    var dWeight = [T](repeating: 0, count: V * C)
    for n in 0..<N {
      for v in 0..<V {
        let g = dLogits[n * V + v]
        if g == 0 { continue }
        for c in 0..<C {
          dHidden[n * C + c] += g * weight[v * C + c]
          dWeight[v * C + c] += g * hidden[n * C + c]
        }
      }
    }
    return Output(logits: logits, nll: nll, lossSum: lossSum, tokenCount: tokenCount,
                  loss: scale * lossSum, dHidden: dHidden, dWeight: dWeight)
  }
}
