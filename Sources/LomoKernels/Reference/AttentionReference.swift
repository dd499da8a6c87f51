#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Naive causal grouped-query attention, written for clarity, not speed: the ground truth that
/// tests compare `Attention` with (use it with `Double`).
///
/// Shapes (B batch, T time, H query heads, KVH kv heads, D head dim), all row-major:
/// q [B, T, H, D], k and v [B, T, KVH, D], out [B, T, H, D], lse [B, H, T].
/// Query head h reads kv head h / (H / KVH); query t attends to keys 0...t; scale 1/sqrt(D).
public enum AttentionReference {
  /// Returns out [B, T, H, D] and lse [B, H, T], the log-sum-exp of each query row's scaled scores.
  public static func forward<F: BinaryFloatingPoint>(
    q: [F], k: [F], v: [F], batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int
  ) -> (out: [F], lse: [F]) {
    let g = Geometry(batch: batch, time: time, heads: heads, kvHeads: kvHeads, headDim: headDim)
    g.check(q: q.count, kv: k.count, v.count)
    var out = [F](repeating: 0, count: q.count)
    var lse = [F](repeating: 0, count: batch * heads * time)
    for b in 0..<batch {
      for h in 0..<heads {
        for t in 0..<time {
          let (p, logSumExp) = probabilities(q: q, k: k, g, b: b, h: h, t: t)
          lse[(b * heads + h) * time + t] = logSumExp
          for j in 0...t {
            for d in 0..<headDim { out[g.qIndex(b, t, h, d)] += p[j] * v[g.kvIndex(b, j, h, d)] }
          }
        }
      }
    }
    return (out, lse)
  }

  /// Gradients of `L` with respect to q, k and v, given dOut = ∂L/∂out [B, T, H, D].
  /// Returns freshly computed dQ [B, T, H, D], dK and dV [B, T, KVH, D] (no accumulation).
  /// Uses the textbook softmax backward Di = Σ_j P_ij dP_ij (the fast kernel uses dO·O instead).
  public static func backward<F: BinaryFloatingPoint>(
    dOut: [F], q: [F], k: [F], v: [F],
    batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int
  ) -> (dQ: [F], dK: [F], dV: [F]) {
    let g = Geometry(batch: batch, time: time, heads: heads, kvHeads: kvHeads, headDim: headDim)
    g.check(q: q.count, kv: k.count, v.count)
    precondition(dOut.count == q.count, "dOut has \(dOut.count) values, expected \(q.count)")
    var dQ = [F](repeating: 0, count: q.count)
    var dK = [F](repeating: 0, count: k.count)
    var dV = [F](repeating: 0, count: v.count)
    let scale = 1 / F(headDim).squareRoot()
    for b in 0..<batch {
      for h in 0..<heads {
        for t in 0..<time {
          let (p, _) = probabilities(q: q, k: k, g, b: b, h: h, t: t)
          var dP = [F](repeating: 0, count: t + 1)
          for j in 0...t {
            for d in 0..<headDim {
              let dO = dOut[g.qIndex(b, t, h, d)]
              dV[g.kvIndex(b, j, h, d)] += p[j] * dO
              dP[j] += dO * v[g.kvIndex(b, j, h, d)]
            }
          }
          var di: F = 0
          for j in 0...t { di += p[j] * dP[j] }
          for j in 0...t {
            let dS = p[j] * (dP[j] - di)
            for d in 0..<headDim {
              dQ[g.qIndex(b, t, h, d)] += scale * dS * k[g.kvIndex(b, j, h, d)]
              dK[g.kvIndex(b, j, h, d)] += scale * dS * q[g.qIndex(b, t, h, d)]
            }
          }
        }
      }
    }
    return (dQ, dK, dV)
  }

  /// Softmax over keys 0...t of query (b, t, h), and its log-sum-exp.
  private static func probabilities<F: BinaryFloatingPoint>(
    q: [F], k: [F], _ g: Geometry, b: Int, h: Int, t: Int
  ) -> (p: [F], lse: F) {
    let scale = 1 / F(g.headDim).squareRoot()
    var s = [F](repeating: 0, count: t + 1)
    for j in 0...t {
      for d in 0..<g.headDim { s[j] += q[g.qIndex(b, t, h, d)] * k[g.kvIndex(b, j, h, d)] }
      s[j] *= scale
    }
    let m = s.max()!
    var sum: F = 0
    for j in 0...t { sum += F(exp(Double(s[j] - m))) }
    let lse = m + F(log(Double(sum)))
    return (s.map { F(exp(Double($0 - lse))) }, lse)
  }

  private struct Geometry {
    let batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int

    init(batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int) {
      precondition(batch >= 0 && time >= 0 && headDim > 0 && kvHeads > 0 && heads % kvHeads == 0,
                   "bad attention shape B=\(batch) T=\(time) H=\(heads) KVH=\(kvHeads) D=\(headDim)")
      (self.batch, self.time, self.heads, self.kvHeads, self.headDim) =
        (batch, time, heads, kvHeads, headDim)
    }

    func check(q: Int, kv k: Int, _ v: Int) {
      precondition(q == batch * time * heads * headDim, "q has \(q) values")
      precondition(k == batch * time * kvHeads * headDim, "k has \(k) values")
      precondition(v == k, "v has \(v) values, k \(k)")
    }

    /// Index into a [B, T, H, D] tensor.
    func qIndex(_ b: Int, _ t: Int, _ h: Int, _ d: Int) -> Int {
      ((b * time + t) * heads + h) * headDim + d
    }

    /// Index into a [B, T, KVH, D] tensor of the kv head that query head h reads.
    func kvIndex(_ b: Int, _ t: Int, _ h: Int, _ d: Int) -> Int {
      ((b * time + t) * kvHeads + h / (heads / kvHeads)) * headDim + d
    }
  }
}
