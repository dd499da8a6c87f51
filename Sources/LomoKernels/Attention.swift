#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import CDNNL
import LomoCore

/// Scratch for attention: one score block per concurrently processed (b, h), reused across
/// calls and layers.
///
/// Because queries are processed in blocks of `Attention.queryBlock` rows, the block actually
/// held is [min(T, queryBlock), P + T] scores (forward, P prefix keys) plus [min(T,
/// queryBlock), T] score gradients (backward): at T = 2048 that is 2 × 1 MiB per worker. It
/// grows to the largest block seen and never shrinks.
/// One scratch serves one call at a time.
public final class AttentionScratch: @unchecked Sendable {
  /// One worker's blocks.
  final class Slot: @unchecked Sendable {
    /// S, then P = softmax(S): [rows, keys] of the current query block.
    let scores = ScratchBuffer<Float>()
    /// dP, then dS (backward only): [rows, keys] of the current query block.
    let scoreGrads = ScratchBuffer<Float>()
  }

  private var slots: [Slot] = []

  public init() {}

  /// The first `count` slots (made as needed; call outside the parallel region).
  func slots(_ count: Int) -> [Slot] {
    while slots.count < count { slots.append(Slot()) }
    return Array(slots.prefix(count))
  }
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
/// Threads: with at least two (batch, kv head) groups per worker thread, the groups run in
/// parallel, each on one thread with single-threaded oneDNN products (the GEMMs are small:
/// K = D or a query block, and threading each of them cost more in wake-ups than it gained);
/// otherwise the (b, h) loop is serial and oneDNN threads each product. Either way a group's
/// heads go in order, so dK and dV sum their query heads in the same order. The row loops (max,
/// exp, softmax gradient) use 16-lane SIMD; exp is a Cephes-style polynomial (about 1 ulp
/// relative to expf), not libm.
public enum Attention {
  /// Query rows per block. Each block's scores are [queryBlock, end of block]. Measured at
  /// B=4 T=512 H=9 KVH=3 D=64: 64 and 128 cost the same single-threaded, 128 is faster with
  /// two oneDNN threads (fewer, larger GEMMs); 512 (no skipping) costs 1.6x.
  public static let queryBlock = 128

  /// Causal self-attention with grouped-query heads; softmax scale `scale` (nil: 1/sqrt(D)).
  /// With a `window` W > 0 a query at position p sees only keys p − W + 1...p (Gemma 3's
  /// sliding-window layers); masked keys get probability 0.
  ///
  /// - q: [B, T, H, D]; k, v: [B, T, KVH, D] (RoPE already applied). Query head h reads kv head
  ///   h / (H / KVH).
  /// - prefixes: per sequence b, the keys and values of P_b earlier positions it continues (a
  ///   KV cache: the prompt of a generation, the shared prompt of a multiple-choice item),
  ///   [P_b, KVH, D] each with RoPE applied at positions 0..<P_b; its query t then sits at
  ///   position P_b + t and attends to the P_b prefix keys and its own keys 0...t. Empty: no
  ///   prefixes. (Backward has none: training runs whole sequences.)
  /// - out: [B, T, H, D], overwritten with softmax(q·kᵀ/sqrt(D), causal) · v.
  /// - lse: [B, H, T], overwritten with each query row's log-sum-exp of scaled scores
  ///   (saved for backward; computed as max + log Σ exp(s − max), so it never overflows).
  /// - scratch: score rows, reused; no state survives the call.
  public static func forward(
    out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int, prefixes: [AttentionPrefix] = [],
    scale: Float? = nil, window: Int = 0, scratch: AttentionScratch
  ) {
    let g = Heads(batch: batch, time: time, heads: heads, kvHeads: kvHeads, headDim: headDim, scale: scale, window: window)
    guard batch > 0, time > 0 else { return }
    precondition(prefixes.isEmpty || prefixes.count == batch, "\(prefixes.count) prefixes for \(batch) sequences")
    let longest = prefixes.map(\.length).max() ?? 0
    g.forEachHead(batch: batch, scratch: scratch) { b, h, slot in
      let s = slot.scores.pointer(count: g.blockRows * (longest + time))  // [rows, keys]
      let prefix = prefixes.isEmpty ? nil : prefixes[b]
      let past = prefix?.length ?? 0
      let qh = q + g.qOffset(b, h)  // [T, D], row stride H·D
      let kh = k + g.kvOffset(b, h)  // [T, D], row stride KVH·D
      let vh = v + g.kvOffset(b, h)
      let oh = out + g.qOffset(b, h)
      let lseh = lse + (b * heads + h) * time  // [T]
      for (i0, i1) in g.queryBlocks {
        let rows = i1 - i0, keys = past + i1
        if rows <= directRows {
          directBlock(out: oh, lse: lseh, q: qh, k: kh, v: vh, prefix: prefix, rows: i0..<i1,
                      scores: s, geometry: g, kvHead: g.kvHeadOffset(h))
          continue
        }
        // S[rows, keys] = scale · Q[i0..<i1] · [K_prefix; K[0..<i1]]ᵀ
        if let prefix, past > 0 {
          Gemm.f32(transA: false, transB: true, m: rows, n: past, k: headDim, alpha: g.scale,
                   a: qh + i0 * g.qStride, lda: g.qStride, b: prefix.keys + g.kvHeadOffset(h),
                   ldb: g.kvStride, c: s, ldc: keys)
        }
        Gemm.f32(transA: false, transB: true, m: rows, n: i1, k: headDim, alpha: g.scale,
                 a: qh + i0 * g.qStride, lda: g.qStride, b: kh, ldb: g.kvStride,
                 c: s + past, ldc: keys)
        for r in 0..<rows {
          let row = s + r * keys
          let valid = past + i0 + r + 1  // the prefix, then keys 0...t
          let first = g.firstKey(position: past + i0 + r)
          row.update(repeating: 0, count: first)
          lseh[i0 + r] = RowOps.softmax(row + first, count: valid - first)
          (row + valid).update(repeating: 0, count: keys - valid)
        }
        // O[i0..<i1] = P[rows, keys] · [V_prefix; V[0..<i1]]
        if let prefix, past > 0 {
          Gemm.f32(transA: false, transB: false, m: rows, n: headDim, k: past,
                   a: s, lda: keys, b: prefix.values + g.kvHeadOffset(h), ldb: g.kvStride,
                   c: oh + i0 * g.qStride, ldc: g.qStride)
        }
        Gemm.f32(transA: false, transB: false, m: rows, n: headDim, k: i1,
                 a: s + past, lda: keys, b: vh, ldb: g.kvStride, beta: past > 0 ? 1 : 0,
                 c: oh + i0 * g.qStride, ldc: g.qStride)
      }
    }
  }

  /// Query blocks of at most this many rows (a generated token, the candidates of
  /// multiple-choice items) are computed with SIMD dot products instead of GEMMs: per (batch,
  /// head) four oneDNN calls of a few rows cost more in call overhead than the arithmetic.
  static let directRows = 16

  /// `forward`'s block of query rows `rows` of one (b, h): each row's scores as dot products
  /// with the prefix keys and its own keys 0...t, softmax, then the probability-weighted sum of
  /// the values. `scores` holds one row of keys.
  private static func directBlock(
    out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, prefix: AttentionPrefix?, rows: Range<Int>,
    scores: UnsafeMutablePointer<Float>, geometry g: Heads, kvHead: Int
  ) {
    let past = prefix?.length ?? 0, d = g.headDim
    for t in rows {
      let query = q + t * g.qStride
      let valid = past + t + 1
      func key(_ j: Int) -> UnsafePointer<Float> {
        j < past ? prefix!.keys + kvHead + j * g.kvStride : k + (j - past) * g.kvStride
      }
      func value(_ j: Int) -> UnsafePointer<Float> {
        j < past ? prefix!.values + kvHead + j * g.kvStride : v + (j - past) * g.kvStride
      }
      let first = g.firstKey(position: past + t)
      for j in first..<valid { scores[j - first] = g.scale * VectorMath.dot(query, key(j), d) }
      lse[t] = RowOps.softmax(scores, count: valid - first)
      let o = out + t * g.qStride
      o.update(repeating: 0, count: d)
      for j in first..<valid { RowOps.addScaled(o, value(j), by: scores[j - first], count: d) }
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
    batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float? = nil, window: Int = 0,
    scratch: AttentionScratch
  ) {
    let g = Heads(batch: batch, time: time, heads: heads, kvHeads: kvHeads, headDim: headDim, scale: scale, window: window)
    guard batch > 0, time > 0 else { return }
    g.forEachHead(batch: batch, scratch: scratch) { b, h, slot in
      let p = slot.scores.pointer(count: g.blockRows * time)  // [rows, keys]
      let dS = slot.scoreGrads.pointer(count: g.blockRows * time)  // [rows, keys]
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
          let valid = i0 + r + 1, first = g.firstKey(position: i0 + r)
          row.update(repeating: 0, count: first)
          RowOps.exponentiate(row + first, count: valid - first, minus: lseh[i0 + r])
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
          let valid = i0 + r + 1, first = g.firstKey(position: i0 + r)
          let di = VectorMath.dot(dOBlock + r * g.qStride, out + qo + (i0 + r) * g.qStride,
                                  headDim)
          (dS + r * i1).update(repeating: 0, count: first)
          RowOps.softmaxGrad(dS + r * i1 + first, probs: p + r * i1 + first, count: valid - first, rowDot: di)
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

/// Keys and values of P positions that every sequence of an attention call continues:
/// [P, KVH, D] each (row stride KVH·D), RoPE applied at positions 0..<P.
public struct AttentionPrefix {
  public let keys: UnsafePointer<Float>
  public let values: UnsafePointer<Float>
  public let length: Int

  public init(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, length: Int) {
    precondition(length >= 0, "negative prefix length \(length)")
    self.keys = keys
    self.values = values
    self.length = length
  }
}

/// Strides and offsets of one attention call.
private struct Heads {
  let time: Int, heads: Int, kvHeads: Int, headDim: Int
  /// Row strides of q/out/dOut ([B, T, H, D]) and of k/v ([B, T, KVH, D]).
  let qStride: Int, kvStride: Int
  let group: Int
  let scale: Float
  /// Keys visible to a query, its own included (0: all earlier keys).
  let window: Int
  let blockRows: Int

  init(batch: Int, time: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float?, window: Int) {
    precondition(batch >= 0 && time >= 0 && headDim > 0 && kvHeads > 0 && heads > 0
                 && heads % kvHeads == 0,
                 "bad attention shape B=\(batch) T=\(time) H=\(heads) KVH=\(kvHeads) D=\(headDim)")
    (self.time, self.heads, self.kvHeads, self.headDim) = (time, heads, kvHeads, headDim)
    qStride = heads * headDim
    kvStride = kvHeads * headDim
    group = heads / kvHeads
    precondition(window >= 0, "negative attention window \(window)")
    self.scale = scale ?? 1 / Float(headDim).squareRoot()
    self.window = window
    blockRows = min(time, Attention.queryBlock)
  }

  /// The first key position a query at `position` sees: position − window + 1 with a window.
  func firstKey(position: Int) -> Int { window > 0 ? Swift.max(0, position - window + 1) : 0 }

  /// Offset of head h of batch b in a [B, T, H, D] tensor.
  func qOffset(_ b: Int, _ h: Int) -> Int { b * time * qStride + h * headDim }

  /// Offset of the kv head that query head h reads, in a [B, T, KVH, D] tensor.
  func kvOffset(_ b: Int, _ h: Int) -> Int { b * time * kvStride + kvHeadOffset(h) }

  /// Offset of the kv head that query head h reads within one position's [KVH, D].
  func kvHeadOffset(_ h: Int) -> Int { (h / group) * headDim }

  /// Runs `body(b, h, slot)` for every batch b and query head h: in parallel over (b, kv head)
  /// groups when there are at least two per worker thread (each group's heads in order on one
  /// thread, its oneDNN products single-threaded), else serially in (b, h) order with slot 0.
  func forEachHead(batch: Int, scratch: AttentionScratch,
                   _ body: (Int, Int, AttentionScratch.Slot) -> Void) {
    let groups = batch * kvHeads, workers = Threads.count
    guard workers > 1, groups >= 2 * workers else {
      let slot = scratch.slots(1)[0]
      for b in 0..<batch { for h in 0..<heads { body(b, h, slot) } }
      return
    }
    let slots = scratch.slots(workers)
    Threads.parallelFor(workers) { range in
      for worker in range {
        let oneDNNThreads = omp_get_max_threads()
        omp_set_num_threads(1)
        defer { omp_set_num_threads(oneDNNThreads) }
        for index in groups * worker / workers..<groups * (worker + 1) / workers {
          let b = index / kvHeads, kv = index % kvHeads
          for h in kv * group..<(kv + 1) * group { body(b, h, slots[worker]) }
        }
      }
    }
  }

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
  static func load(_ p: UnsafePointer<Float>) -> V { VectorMath.load(p) }
  static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { VectorMath.store(v, p) }

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
      m = VectorMath.maximum(m, load(row + j))
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
      let e = VectorMath.exp(load(row + j) - s)
      store(e, row + j)
      acc += e
      j += V.scalarCount
    }
    var total = acc.sum()
    if j < count {
      var x = V(repeating: shift)
      for l in 0..<(count - j) { x[l] = row[j + l] }
      let e = VectorMath.exp(x - s)
      for l in 0..<(count - j) {
        row[j + l] = e[l]
        total += e[l]
      }
    }
    return total
  }

  /// In place: row[j] *= factor for j < count.
  /// y[j] += factor · x[j] for j < count.
  static func addScaled(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, by factor: Float, count: Int) {
    let f = V(repeating: factor)
    var j = 0
    while j + V.scalarCount <= count {
      store(load(y + j) + f * load(x + j), y + j)
      j += V.scalarCount
    }
    while j < count {
      y[j] += factor * x[j]
      j += 1
    }
  }

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
}
