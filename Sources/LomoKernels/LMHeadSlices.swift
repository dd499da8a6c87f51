import LomoCore

/// Reusable memory of `LMHeadSlices`, under `.scratch` in its ledger. Not thread-safe.
public final class LMHeadSliceScratch: @unchecked Sendable {
  let hidden: ScratchBuffer<Float>          // [n, C] the unmasked rows
  let hiddenBF16: ScratchBuffer<BFloat16>   // [n, C] their bf16 copy (bf16 weights)
  let dHidden: ScratchBuffer<Float>         // [n, C] ∂L/∂hidden accumulated over slices
  let logits: ScratchBuffer<Float>          // [n, slice] logits, then dlogits in place
  let rows: ScratchBuffer<Int32>            // [n] which rows of the batch
  let logSumExp: ScratchBuffer<Float>       // [n]

  public init(ledger: MemoryLedger = .shared) {
    hidden = ScratchBuffer(ledger: ledger)
    hiddenBF16 = ScratchBuffer(ledger: ledger)
    dHidden = ScratchBuffer(ledger: ledger)
    logits = ScratchBuffer(ledger: ledger)
    rows = ScratchBuffer(ledger: ledger)
    logSumExp = ScratchBuffer(ledger: ledger)
  }
}

/// The LM head's weight gradient one vocabulary slice at a time, for a head whose f32 gradient
/// [V, C] is too large to hold whole (the loss comes first, from `CrossEntropy.forward`, which
/// gives each row's log-sum-exp). For the rows `v0..<v1` of the head:
///
/// ```
/// logits[n, j] = hidden[n] · W[v0 + j]                     (n over the unmasked rows)
/// dlogits[n, j] = gradScale · (exp(logits[n, j] − lse[n]) − [v0 + j == target[n]])
/// dW[j]        = Σ_n dlogits[n, j] · hidden[n]              [v1 − v0, C], overwritten
/// dHidden[n]  += Σ_j dlogits[n, j] · W[v0 + j]              (with accumulateHidden)
/// ```
///
/// Two GEMMs per slice for dW and one more for dHidden, the logits GEMM recomputed each time a
/// slice is asked for: handing the head over in slices costs one forward GEMM more than the
/// fused `CrossEntropy.forwardBackward` (the loss pass) plus two per extra pass an updater makes.
/// Precision as there: f32 softmax; with bf16 weights the hidden rows and the dlogits are bf16
/// GEMM operands with f32 accumulation.
public struct LMHeadSlices {
  let scratch: LMHeadSliceScratch
  let weight: WeightPointer
  let count: Int, channels: Int, vocab: Int
  let gradScale: Float
  let targets: UnsafePointer<Int32>

  /// - hidden `[N, C]` (final-normed), targets `[N]` (negative: ignored), logSumExp `[N]` as
  ///   `CrossEntropy.forward` wrote it, weight `[V, C]`. gradScale nil: 1 / unmasked rows.
  public init(hidden: UnsafePointer<Float>, logSumExp: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
              weight: WeightPointer, rows: Int, channels: Int, vocab: Int, gradScale: Float?,
              scratch: LMHeadSliceScratch) {
    let C = channels
    let index = scratch.rows.pointer(count: max(rows, 1))
    var n = 0
    for i in 0..<rows where targets[i] >= 0 {
      index[n] = Int32(i)
      n += 1
    }
    let h = scratch.hidden.pointer(count: max(n, 1) * C)
    let lse = scratch.logSumExp.pointer(count: max(n, 1))
    for r in 0..<n {
      (h + r * C).update(from: hidden + Int(index[r]) * C, count: C)
      lse[r] = logSumExp[Int(index[r])]
    }
    if case .bf16 = weight { Convert.toBF16(scratch.hiddenBF16.pointer(count: max(n, 1) * C), h, count: n * C) }
    scratch.dHidden.pointer(count: max(n, 1) * C).update(repeating: 0, count: max(n, 1) * C)
    self.scratch = scratch
    self.weight = weight
    self.count = n
    self.channels = C
    self.vocab = vocab
    self.targets = targets
    self.gradScale = gradScale ?? (n > 0 ? 1 / Float(n) : 0)
  }

  /// dW of the head's rows `slice` into `dWeight` [slice.count, C] (overwritten); with
  /// `accumulateHidden` also adds the slice's part of ∂L/∂hidden (ask for it once per slice).
  public func gradient(rows slice: Range<Int>, into dWeight: UnsafeMutablePointer<Float>, accumulateHidden: Bool) {
    precondition(slice.lowerBound >= 0 && slice.upperBound <= vocab, "slice \(slice) outside 0..<\(vocab)")
    let n = count, C = channels, s = slice.count, v0 = slice.lowerBound
    guard n > 0, s > 0 else { return dWeight.update(repeating: 0, count: s * C) }
    let h = UnsafePointer(scratch.hidden.pointer(count: n * C))
    let logits = scratch.logits.pointer(count: n * s)
    switch weight {
    case .f32(let w):
      Gemm.f32(transA: false, transB: true, m: n, n: s, k: C, a: h, lda: C, b: w + v0 * C, ldb: C, c: logits, ldc: s)
    case .bf16(let w):
      Gemm.bf16(transA: false, transB: true, m: n, n: s, k: C, a: scratch.hiddenBF16.pointer(count: n * C), lda: C,
                b: w + v0 * C, ldb: C, c: logits, ldc: s)
    }
    let isBF16: Bool
    if case .bf16 = weight { isBF16 = true } else { isBF16 = false }
    let lse = scratch.logSumExp.pointer(count: n), rows = scratch.rows.pointer(count: n)
    let scale = gradScale, targets = self.targets
    Threads.parallelFor(n, minChunk: max(1, 32768 / s)) { range in
      for r in range {
        let row = logits + r * s
        Self.softmaxGradient(row, count: s, logSumExp: lse[r], scale: scale)
        let t = Int(targets[Int(rows[r])]) - v0
        if t >= 0 && t < s { row[t] -= scale }
        if isBF16 { Convert.toBF16InPlace(UnsafeMutableRawPointer(row), count: s, scale: 1) }
      }
    }
    let dHidden = scratch.dHidden.pointer(count: n * C)
    switch weight {
    case .f32(let w):
      Gemm.f32(transA: true, transB: false, m: s, n: C, k: n, a: logits, lda: s, b: h, ldb: C, c: dWeight, ldc: C)
      if accumulateHidden {
        Gemm.f32(transA: false, transB: false, m: n, n: C, k: s, a: logits, lda: s, b: w + v0 * C, ldb: C,
                 beta: 1, c: dHidden, ldc: C)
      }
    case .bf16(let w):
      // Row r's bf16 dlogits overwrite the first half of its f32 logits: leading dimension 2s.
      let d = UnsafeMutableRawPointer(logits).assumingMemoryBound(to: BFloat16.self)
      Gemm.bf16(transA: true, transB: false, m: s, n: C, k: n, a: d, lda: 2 * s,
                b: scratch.hiddenBF16.pointer(count: n * C), ldb: C, c: dWeight, ldc: C)
      if accumulateHidden {
        Gemm.bf16(transA: false, transB: false, m: n, n: C, k: s, a: d, lda: 2 * s, b: w + v0 * C, ldb: C,
                  beta: 1, c: dHidden, ldc: C)
      }
    }
  }

  /// Adds the ∂L/∂hidden accumulated so far into `dHidden` [N, C] (the unmasked rows).
  public func addHiddenGradient(into dHidden: UnsafeMutablePointer<Float>) {
    let C = channels, rows = scratch.rows.pointer(count: max(count, 1))
    let source = scratch.dHidden.pointer(count: max(count, 1) * C)
    for r in 0..<count {
      let dst = dHidden + Int(rows[r]) * C, src = source + r * C
      for c in 0..<C { dst[c] += src[c] }
    }
  }

  /// row[j] ← scale · exp(row[j] − logSumExp), SIMD16 with a vector exp.
  @inline(__always)
  static func softmaxGradient(_ row: UnsafeMutablePointer<Float>, count: Int, logSumExp: Float, scale: Float) {
    typealias V16 = SIMD16<Float>
    let raw = UnsafeMutableRawPointer(row)
    let shift = V16(repeating: logSumExp), factor = V16(repeating: scale)
    var j = 0
    while j + 16 <= count {
      let x = raw.loadUnaligned(fromByteOffset: j * 4, as: V16.self)
      raw.storeBytes(of: VectorMath.exp(x - shift) * factor, toByteOffset: j * 4, as: V16.self)
      j += 16
    }
    if j < count {
      var x = shift
      for l in 0..<(count - j) { x[l] = row[j + l] }
      let e = VectorMath.exp(x - shift) * factor
      for l in 0..<(count - j) { row[j + l] = e[l] }
    }
  }
}
