#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import LomoCore

/// Scratch for attention: one [T, T] score block per concurrently processed (b, h), reused
/// across calls and layers.
///
/// Because queries are processed in blocks of `Attention.queryBlock` rows, the block actually
/// held is [min(T, queryBlock), T] scores (forward) plus as many score gradients (backward):
/// at T = 2048 that is 2 × 1 MiB. It grows to the largest T seen and never shrinks.
/// One scratch serves one call at a time (calls run the (b, h) loop serially).
public final class AttentionScratch: @unchecked Sendable {
  /// S, then P = softmax(S): [rows, keys] of the current query block.
  let scores = ScratchBuffer<Float>()
  /// dP, then dS (backward only): [rows, keys] of the current query block.
  let scoreGrads = ScratchBuffer<Float>()

  public init() {}
}

/// Causal self-attention with grouped-query heads, forward and backward (after FlashAttention-2's
/// recomputation, with oneDNN GEMMs per (batch, head) and query block).
///
/// Shapes: B batch, T time, H query heads, KVH kv heads (H % KVH == 0), D head dim.
/// Query head h reads kv head h / (H / KVH). Query t attends to keys 0...t.
///
/// Memory: only `out` [B, T, H, D] and `lse` [B, H, T] are saved for backward; no [T, T]
/// attention matrix lives between forward and backward, so activation memory grows as
/// B·H·T per layer, never B·H·T². Backward recomputes the scores from q and k and turns them
/// into probabilities with the saved log-sum-exp: P = exp(S − lse), which needs no row maximum
/// and cannot overflow (every exponent is ≤ 0 up to rounding).
///
/// Work: queries go in blocks of `queryBlock` rows, and a block only multiplies against keys
/// 0..<end of block, which skips the fully masked upper blocks: the GEMM work is
/// (1 + 1/blocks)/2 of the full T×T products (5/8 at T = 512, 17/32 at T = 2048).
/// The (b, h) loop is serial: oneDNN's sgemm threads each product (OpenMP), and the row loops
/// (max, exp, softmax gradient) use 16-lane SIMD. exp is a Cephes-style polynomial (about 1 ulp
/// relative to expf), not libm.
public enum Attention {
  /// Query rows per block. Each block's scores are [queryBlock, end of block]. Measured at
  /// B=4 T=512 H=9 KVH=3 D=64: 64 and 128 cost the same single-threaded, 128 is faster with
  /// two oneDNN threads (fewer, larger GEMMs); 512 (no skipping) costs 1.6x.
  public static let queryBlock = 128

  /// Causal self-attention with grouped-query heads; softmax scale 1/sqrt(D).
  ///
  /// - q: [B, T, H, D]; k, v: [B, T, KVH, D] (RoPE already applied). Query head h reads kv head
  ///   h / (H / KVH).
  /// - out: [B, T, H, D], overwritten with softmax(q·kᵀ/sqrt(D), causal) · v.
  /// - lse: [B, H, T], overwritten with each query row's log-sum-exp of scaled scores
  ///   (saved for backward; computed as max + log Σ exp(s − max), so it never overflows).
  /// - scratch: score rows, reused; no state survives the call.
  public static func forward(
    out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int, scratch: AttentionScratch
  ) {
    let g = Heads(batch: batch, time: time, heads: heads, kvHeads: kvHeads, headDim: headDim)
    guard batch > 0, time > 0 else { return }
    let s = scratch.scores.pointer(count: g.blockRows * time)  // [rows, keys]
    for b in 0..<batch {
      for h in 0..<heads {
        let qh = q + g.qOffset(b, h)  // [T, D], row stride H·D
        let kh = k + g.kvOffset(b, h)  // [T, D], row stride KVH·D
        let vh = v + g.kvOffset(b, h)
        let oh = out + g.qOffset(b, h)
        let lseh = lse + (b * heads + h) * time  // [T]
        for (i0, i1) in g.queryBlocks {
          let rows = i1 - i0
          // S[rows, i1] = scale · Q[i0..<i1] · K[0..<i1]ᵀ
          Gemm.f32(transA: false, transB: true, m: rows, n: i1, k: headDim, alpha: g.scale,
                   a: qh + i0 * g.qStride, lda: g.qStride, b: kh, ldb: g.kvStride,
                   c: s, ldc: i1)
          for r in 0..<rows {
            let row = s + r * i1
            let valid = i0 + r + 1  // keys 0...t
            lseh[i0 + r] = RowOps.softmax(row, count: valid)
            (row + valid).update(repeating: 0, count: i1 - valid)
          }
          // O[i0..<i1] = P[rows, i1] · V[0..<i1]
          Gemm.f32(transA: false, transB: false, m: rows, n: headDim, k: i1,
                   a: s, lda: i1, b: vh, ldb: g.kvStride,
                   c: oh + i0 * g.qStride, ldc: g.qStride)
        }
      }
    }
  }

  /// Gradients of causal grouped-query attention. dQ, dK and dV ACCUMULATE (+=).
  ///
  /// - dOut: [B, T, H, D], ∂L/∂out.
  /// - q [B, T, H, D], k and v [B, T, KVH, D]: the forward inputs.
  /// - out [B, T, H, D] and lse [B, H, T]: the forward outputs. Scores are recomputed from q and
  ///   k, and P = exp(S − lse) (no T×T state is kept between forward and backward).
  /// - dQ: [B, T, H, D] += ∂L/∂q; dK, dV: [B, T, KVH, D] += ∂L/∂k, ∂L/∂v, summed over the
  ///   H / KVH query heads that share each kv head.
  ///
  /// Per query block: dV += Pᵀ·dO, dP = dO·Vᵀ, Di = Σ_d dO∘O (equal to Σ_j P∘dP),
  /// dS = P∘(dP − Di), dQ += scale·dS·K, dK += scale·dSᵀ·Q.
  public static func backward(
    dQ: UnsafeMutablePointer<Float>, dK: UnsafeMutablePointer<Float>,
    dV: UnsafeMutablePointer<Float>,
    dOut: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
    v: UnsafePointer<Float>, out: UnsafePointer<Float>, lse: UnsafePointer<Float>,
    batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int, scratch: AttentionScratch
  ) {
    let g = Heads(batch: batch, time: time, heads: heads, kvHeads: kvHeads, headDim: headDim)
    guard batch > 0, time > 0 else { return }
    let p = scratch.scores.pointer(count: g.blockRows * time)  // [rows, keys]
    let dS = scratch.scoreGrads.pointer(count: g.blockRows * time)  // [rows, keys]
    for b in 0..<batch {
      for h in 0..<heads {
        let qo = g.qOffset(b, h), kvo = g.kvOffset(b, h)
        let lseh = lse + (b * heads + h) * time  // [T]
        for (i0, i1) in g.queryBlocks {
          let rows = i1 - i0
          let qBlock = q + qo + i0 * g.qStride  // [rows, D]
          let dOBlock = dOut + qo + i0 * g.qStride  // [rows, D]
          // P = exp(scale · Q Kᵀ − lse), zero above the diagonal.
          Gemm.f32(transA: false, transB: true, m: rows, n: i1, k: headDim, alpha: g.scale,
                   a: qBlock, lda: g.qStride, b: k + kvo, ldb: g.kvStride, c: p, ldc: i1)
          for r in 0..<rows {
            let row = p + r * i1
            let valid = i0 + r + 1
            RowOps.exponentiate(row, count: valid, minus: lseh[i0 + r])
            (row + valid).update(repeating: 0, count: i1 - valid)
          }
          // dV[0..<i1] += Pᵀ · dO
          Gemm.f32(transA: true, transB: false, m: i1, n: headDim, k: rows,
                   a: p, lda: i1, b: dOBlock, ldb: g.qStride,
                   beta: 1, c: dV + kvo, ldc: g.kvStride)
          // dP[rows, i1] = dO · Vᵀ
          Gemm.f32(transA: false, transB: true, m: rows, n: i1, k: headDim,
                   a: dOBlock, lda: g.qStride, b: v + kvo, ldb: g.kvStride, c: dS, ldc: i1)
          // dS = P ∘ (dP − Di), Di = dO_i · O_i
          for r in 0..<rows {
            let valid = i0 + r + 1
            let di = RowOps.dot(dOBlock + r * g.qStride, out + qo + (i0 + r) * g.qStride,
                                count: headDim)
            RowOps.softmaxGrad(dS + r * i1, probs: p + r * i1, count: valid, rowDot: di)
            (dS + r * i1 + valid).update(repeating: 0, count: i1 - valid)
          }
          // dQ[i0..<i1] += scale · dS · K[0..<i1]
          Gemm.f32(transA: false, transB: false, m: rows, n: headDim, k: i1, alpha: g.scale,
                   a: dS, lda: i1, b: k + kvo, ldb: g.kvStride,
                   beta: 1, c: dQ + qo + i0 * g.qStride, ldc: g.qStride)
          // dK[0..<i1] += scale · dSᵀ · Q[i0..<i1]
          Gemm.f32(transA: true, transB: false, m: i1, n: headDim, k: rows, alpha: g.scale,
                   a: dS, lda: i1, b: qBlock, ldb: g.qStride,
                   beta: 1, c: dK + kvo, ldc: g.kvStride)
        }
      }
    }
  }
}

/// Strides and offsets of one attention call.
private struct Heads {
  let time: Int, heads: Int, kvHeads: Int, headDim: Int
  /// Row strides of q/out/dOut ([B, T, H, D]) and of k/v ([B, T, KVH, D]).
  let qStride: Int, kvStride: Int
  let group: Int
  let scale: Float
  let blockRows: Int

  init(batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int) {
    precondition(batch >= 0 && time >= 0 && headDim > 0 && kvHeads > 0 && heads > 0
                 && heads % kvHeads == 0,
                 "bad attention shape B=\(batch) T=\(time) H=\(heads) KVH=\(kvHeads) D=\(headDim)")
    (self.time, self.heads, self.kvHeads, self.headDim) = (time, heads, kvHeads, headDim)
    qStride = heads * headDim
    kvStride = kvHeads * headDim
    group = heads / kvHeads
    scale = 1 / Float(headDim).squareRoot()
    blockRows = min(time, Attention.queryBlock)
  }

  /// Offset of head h of batch b in a [B, T, H, D] tensor.
  func qOffset(_ b: Int, _ h: Int) -> Int { b * time * qStride + h * headDim }

  /// Offset of the kv head that query head h reads, in a [B, T, KVH, D] tensor.
  func kvOffset(_ b: Int, _ h: Int) -> Int { b * time * kvStride + (h / group) * headDim }

  /// Query blocks (start, end) covering 0..<T.
  var queryBlocks: [(Int, Int)] {
    stride(from: 0, to: time, by: Attention.queryBlock).map {
      ($0, min($0 + Attention.queryBlock, time))
    }
  }
}

/// Vectorised row loops of softmax and its gradient (16 f32 lanes; AVX-512 with -target-cpu).
enum RowOps {
  typealias V = SIMD16<Float>

  /// In place: row[0..<count] = softmax(row[0..<count]). Returns the log-sum-exp.
  static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) -> Float {
    let m = max(row, count: count)
    let sum = exponentiate(row, count: count, minus: m)
    scale(row, count: count, by: 1 / sum)
    return m + logf(sum)
  }

  /// Largest of row[0..<count] (count >= 1).
  static func max(_ row: UnsafePointer<Float>, count: Int) -> Float {
    var m = V(repeating: -.infinity)
    var j = 0
    while j + V.scalarCount <= count {
      m = greater(m, load(row + j))
      j += V.scalarCount
    }
    var result = m.max()
    while j < count {
      result = Swift.max(result, row[j])
      j += 1
    }
    return result
  }

  /// In place: row[j] = exp(row[j] − shift) for j < count. Returns the sum of the new values.
  @discardableResult
  static func exponentiate(_ row: UnsafeMutablePointer<Float>, count: Int, minus shift: Float)
    -> Float
  {
    let s = V(repeating: shift)
    var acc = V()
    var j = 0
    while j + V.scalarCount <= count {
      let e = exp(load(row + j) - s)
      store(e, row + j)
      acc += e
      j += V.scalarCount
    }
    var total = acc.sum()
    if j < count {
      var x = V(repeating: shift)
      for l in 0..<(count - j) { x[l] = row[j + l] }
      let e = exp(x - s)
      for l in 0..<(count - j) {
        row[j + l] = e[l]
        total += e[l]
      }
    }
    return total
  }

  /// In place: row[j] *= factor for j < count.
  static func scale(_ row: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
    var j = 0
    while j + V.scalarCount <= count {
      store(load(row + j) * factor, row + j)
      j += V.scalarCount
    }
    while j < count {
      row[j] *= factor
      j += 1
    }
  }

  /// In place: grad[j] = probs[j] · (grad[j] − rowDot) for j < count.
  static func softmaxGrad(
    _ grad: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, count: Int, rowDot: Float
  ) {
    let d = V(repeating: rowDot)
    var j = 0
    while j + V.scalarCount <= count {
      store(load(probs + j) * (load(grad + j) - d), grad + j)
      j += V.scalarCount
    }
    while j < count {
      grad[j] = probs[j] * (grad[j] - rowDot)
      j += 1
    }
  }

  /// Σ a[j]·b[j] for j < count.
  static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var acc = V()
    var j = 0
    while j + V.scalarCount <= count {
      acc.addProduct(load(a + j), load(b + j))
      j += V.scalarCount
    }
    var total = acc.sum()
    while j < count {
      total += a[j] * b[j]
      j += 1
    }
    return total
  }

  /// e^x per lane for x ≤ 88 (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-7 polynomial,
  /// about 1 ulp). Inputs below −87.3 are clamped: the result is then ≤ 1.2e-38, not 0.
  @inline(__always)
  static func exp(_ x: V) -> V {
    let lo = V(repeating: -87.3), hi = V(repeating: 88.3)
    let x = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
    // Round x·log2(e) to an integer n with the 1.5·2^23 trick: t's low mantissa bits hold n.
    let magic = V(repeating: 12_582_912)
    let t = magic.addingProduct(x, V(repeating: 1.442_695_04))
    let n = t - magic
    var r = x.addingProduct(n, V(repeating: -0.693_359_375))
    r = r.addingProduct(n, V(repeating: 2.121_944_4e-4))
    var p = V(repeating: 1.987_569_15e-4)
    p = V(repeating: 1.398_199_950_7e-3).addingProduct(p, r)
    p = V(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
    p = V(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
    p = V(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
    p = V(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
    let y = (r + 1).addingProduct(p, r * r)
    let bits = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return y * unsafeBitCast(bits, to: V.self)
  }

  /// Lane-wise maximum as compare + blend (`pointwiseMax` compiles to a scalar loop).
  @inline(__always)
  static func greater(_ a: V, _ b: V) -> V { a.replacing(with: b, where: b .> a) }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
  }

  @inline(__always)
  static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
  }
}
