import Foundation
import LomoCore

// Shape legend: N = B·T rows, C channels, V vocabulary.

/// What one cross-entropy call measured: the summed negative log-likelihood over the rows
/// that were not ignored, and how many there were.
public struct CrossEntropyResult: Sendable, Equatable {
  /// Σ over unmasked rows of −log p(target), accumulated in Double.
  public var lossSum: Double
  /// Number of rows whose target was not ignored.
  public var tokenCount: Int
  /// `lossSum / tokenCount`, or 0 when every row was ignored.
  public var meanLoss: Float

  public init(lossSum: Double, tokenCount: Int) {
    self.lossSum = lossSum
    self.tokenCount = tokenCount
    self.meanLoss = tokenCount > 0 ? Float(lossSum / Double(tokenCount)) : 0
  }
}

/// Reusable memory of `CrossEntropy`: one chunk of logits (with bf16 weights the bf16 logit
/// gradients overwrite them in place) and, for bf16 weights, bf16 copies of the chunk's hidden
/// rows; all accounted under `.scratch` in `ledger`.
/// Its size is bounded by `CrossEntropy.scratchBudgetBytes` (see `defaultRowsPerChunk`),
/// whatever N is. Not thread-safe: one scratch per concurrent caller.
public final class CrossEntropyScratch: @unchecked Sendable {
  let logits: ScratchBuffer<Float>          // [rowsChunk, V], or bf16 dlogits with row stride 2V
  let rowNLL: ScratchBuffer<Float>          // [rowsChunk]
  let rowLSE: ScratchBuffer<Float>          // [rowsChunk] log Σ exp(logits)
  let rowIndex: ScratchBuffer<Int32>        // [N] rows whose target is not ignored
  let packedHidden: ScratchBuffer<Float>    // [rowsChunk, C] gathered rows (non-contiguous chunks)
  let packedDHidden: ScratchBuffer<Float>   // [rowsChunk, C] their gradient before scatter-add
  let hiddenBF16: ScratchBuffer<BFloat16>   // [rowsChunk, C] GEMM operand for bf16 weights

  public init(ledger: MemoryLedger = .shared) {
    logits = ScratchBuffer(ledger: ledger)
    rowNLL = ScratchBuffer(ledger: ledger)
    rowLSE = ScratchBuffer(ledger: ledger)
    rowIndex = ScratchBuffer(ledger: ledger)
    packedHidden = ScratchBuffer(ledger: ledger)
    packedDHidden = ScratchBuffer(ledger: ledger)
    hiddenBF16 = ScratchBuffer(ledger: ledger)
  }
}

/// The LM head fused with softmax cross-entropy, so the full `[N, V]` logits never exist.
///
/// `logits[n, v] = hidden[n, :] · weight[v, :]`, `nll[n] = logsumexp(logits[n, :]) − logits[n, t_n]`.
/// Rows with a negative target (e.g. −100) are ignored: they add no loss, no token and no
/// gradient, and they are skipped in every GEMM (only the unmasked rows are multiplied; a chunk
/// of rows that is not contiguous in memory is gathered first and its dHidden scattered back).
///
/// **Chunking by rows.** The unmasked rows are processed `rowsPerChunk` at a time: one GEMM
/// gives that chunk's logits for the *whole* vocabulary `[rowsChunk, V]`, so the softmax of
/// each row is exact in one pass over a buffer that is already there, and (in
/// `forwardBackward`) the logits are turned in place into
/// `dlogits = gradScale · (softmax − onehot)`, followed by
/// `dHidden[chunk] += dlogits · W` and `dWeight (+)= dlogitsᵀ · hidden[chunk]` (the first chunk
/// overwrites dWeight, later ones accumulate through the GEMM's beta = 1). That is three GEMMs
/// in total, the same FLOPs as an unfused LM head. Chunking the *vocabulary* instead would
/// need an online (running max / running sum) softmax over the vocab chunks and then a second
/// pass recomputing every chunk's logits to form the gradient (four or more GEMMs), because a
/// softmax gradient needs the final normaliser. The price of row chunks is that `dWeight`
/// `[V, C]` is read and written, and `W` read twice, once per chunk, so chunks should not be
/// tiny (measured with bf16 weights at V=49152, C=576: 111-row chunks made the two backward
/// GEMMs about twice as costly as 256-row chunks); pass a larger `rowsPerChunk` where memory
/// allows.
///
/// **Memory.** The scratch is about `rowsChunk · (4V + 8C)` bytes, plus `rowsChunk · 2C` for
/// bf16 weights (whose bf16 dlogits overwrite the f32 logits in place, row stride 2V); the
/// default `rowsPerChunk` keeps it within `scratchBudgetBytes` (32 MiB), with at least
/// `minimumRowsPerChunk` rows: 170 rows at V=49152, 61 at V=128256 (C=4096).
///
/// **Precision.** Logits, softmax and loss are f32 (loss sums in Double). With bf16 weights
/// the hidden rows and the logit gradients are rounded to bf16 (nearest even) as GEMM
/// operands, with f32 accumulation, which is the precision of bf16 training.
public enum CrossEntropy {
  /// Upper bound the default chunk size aims for, in bytes of scratch.
  public static let scratchBudgetBytes = 32 << 20
  /// Smallest default chunk, even when one row of logits alone exceeds the budget's share.
  public static let minimumRowsPerChunk = 4

  /// Rows per chunk so that the scratch stays within `scratchBudgetBytes`.
  public static func defaultRowsPerChunk(vocab: Int, channels: Int, bf16Weights: Bool) -> Int {
    let perRow = vocab * 4 + channels * 8 + (bf16Weights ? channels * 2 : 0)
    return max(minimumRowsPerChunk, scratchBudgetBytes / max(1, perRow))
  }

  /// Loss only.
  ///
  /// - hidden `[N, C]` (final-normed), weight `[V, C]` (LM head), targets `[N]`: the target
  ///   token of each row, or a negative value (e.g. −100) for an ignored row.
  /// - nll `[N]` (optional) is overwritten with each row's −log p(target), 0 for ignored rows.
  /// - logSumExp `[N]` (optional) is overwritten with each unmasked row's log Σ_v exp(logit),
  ///   the softmax normaliser `LMHeadSlices` needs (ignored rows untouched).
  /// - rowsPerChunk: nil picks `defaultRowsPerChunk`; tests pass small values.
  /// - Precondition: every target is < `vocab`.
  public static func forward(
    nll: UnsafeMutablePointer<Float>?, logSumExp: UnsafeMutablePointer<Float>? = nil,
    hidden: UnsafePointer<Float>, weight: WeightPointer,
    targets: UnsafePointer<Int32>, rows: Int, channels: Int, vocab: Int,
    scratch: CrossEntropyScratch, rowsPerChunk: Int? = nil
  ) -> CrossEntropyResult {
    run(backward: nil, nll: nll, logSumExp: logSumExp, hidden: hidden, weight: weight, targets: targets,
        rows: rows, channels: channels, vocab: vocab, rowsPerChunk: rowsPerChunk, scratch: scratch)
  }

  /// Loss and gradients of `Loss = gradScale · Σ_unmasked nll` (gradScale nil → 1/tokenCount,
  /// the mean over unmasked rows).
  ///
  /// - dHidden `[N, C]` ACCUMULATES (+=); ignored rows are left untouched.
  /// - dWeight `[V, C]` (f32) is OVERWRITTEN with the LM-head gradient (zeros when every row
  ///   is ignored), or with `accumulateWeight` the gradient is added to it (untouched when
  ///   every row is ignored).
  /// - Other arguments and the result as in `forward`; the result is the unscaled loss sum.
  public static func forwardBackward(
    dHidden: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
    nll: UnsafeMutablePointer<Float>?, hidden: UnsafePointer<Float>, weight: WeightPointer,
    targets: UnsafePointer<Int32>, rows: Int, channels: Int, vocab: Int, gradScale: Float?,
    accumulateWeight: Bool = false, scratch: CrossEntropyScratch, rowsPerChunk: Int? = nil
  ) -> CrossEntropyResult {
    run(backward: (dHidden, dWeight, gradScale, accumulateWeight), nll: nll, logSumExp: nil, hidden: hidden, weight: weight,
        targets: targets, rows: rows, channels: channels, vocab: vocab,
        rowsPerChunk: rowsPerChunk, scratch: scratch)
  }

  private typealias Backward = (
    dHidden: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>, gradScale: Float?,
    accumulateWeight: Bool
  )

  private static func run(
    backward: Backward?, nll: UnsafeMutablePointer<Float>?, logSumExp: UnsafeMutablePointer<Float>?,
    hidden: UnsafePointer<Float>,
    weight: WeightPointer, targets: UnsafePointer<Int32>, rows: Int, channels: Int, vocab: Int,
    rowsPerChunk: Int?, scratch: CrossEntropyScratch
  ) -> CrossEntropyResult {
    precondition(rows >= 0 && channels > 0 && vocab > 0,
                 "CrossEntropy: bad shape N=\(rows) C=\(channels) V=\(vocab)")
    let C = channels, V = vocab

    // Validate targets and list the unmasked rows.
    let index = scratch.rowIndex.pointer(count: max(rows, 1))  // [N]
    var count = 0
    for i in 0..<rows {
      let t = targets[i]
      if t < 0 {
        nll?[i] = 0
        continue
      }
      precondition(Int(t) < V,
                   "CrossEntropy: target \(t) of row \(i) is outside the vocabulary 0..<\(V)")
      index[count] = Int32(i)
      count += 1
    }
    let scale: Float = backward.map { $0.gradScale ?? (count > 0 ? 1 / Float(count) : 0) } ?? 0
    guard count > 0 else {
      if let backward, !backward.accumulateWeight { backward.dWeight.update(repeating: 0, count: V * C) }
      return CrossEntropyResult(lossSum: 0, tokenCount: 0)
    }

    let isBF16: Bool
    if case .bf16 = weight { isBF16 = true } else { isBF16 = false }
    let chunk = min(
      count, rowsPerChunk ?? defaultRowsPerChunk(vocab: V, channels: C, bf16Weights: isBF16))
    precondition(chunk >= 1, "CrossEntropy: rowsPerChunk must be at least 1")

    let logits = scratch.logits.pointer(count: chunk * V)  // [chunk, V]
    let rowNLL = scratch.rowNLL.pointer(count: chunk)      // [chunk]
    let rowLSE = scratch.rowLSE.pointer(count: chunk)      // [chunk]
    let hiddenBF16 = isBF16 ? scratch.hiddenBF16.pointer(count: chunk * C) : nil  // [chunk, C]
    // With bf16 weights, row r's bf16 dlogits overwrite the first half of its f32 logits:
    // a [chunk, V] bf16 matrix with leading dimension 2V, no extra buffer.
    let dLogitsBF16 = UnsafeMutableRawPointer(logits).assumingMemoryBound(to: BFloat16.self)

    var lossSum = 0.0
    var start = 0
    while start < count {
      let n = min(chunk, count - start)
      let rowIDs = index + start
      let first = Int(rowIDs[0])
      let contiguous = Int(rowIDs[n - 1]) - first == n - 1

      // hidden rows of this chunk, [n, C]
      let h: UnsafePointer<Float>
      if contiguous {
        h = hidden + first * C
      } else {
        let packed = scratch.packedHidden.pointer(count: chunk * C)
        for r in 0..<n { (packed + r * C).update(from: hidden + Int(rowIDs[r]) * C, count: C) }
        h = UnsafePointer(packed)
      }

      // logits[n, V] = h[n, C] · W[V, C]ᵀ
      switch weight {
      case .f32(let w):
        Gemm.f32(transA: false, transB: true, m: n, n: V, k: C, a: h, lda: C, b: w, ldb: C,
                 c: logits, ldc: V)
      case .bf16(let w):
        Convert.toBF16(hiddenBF16!, h, count: n * C)
        Gemm.bf16(transA: false, transB: true, m: n, n: V, k: C, a: hiddenBF16!, lda: C,
                  b: w, ldb: C, c: logits, ldc: V)
      }

      // Softmax and NLL per row; in backward the logits become dlogits (f32 in place, or bf16).
      let minRows = max(1, 32768 / V)
      Threads.parallelFor(n, minChunk: minRows) { range in
        for r in range {
          let row = logits + r * V
          let target = Int(targets[Int(rowIDs[r])])
          let mode: RowMode = backward == nil ? .lossOnly : isBF16 ? .gradientBF16(scale) : .gradientInPlace(scale)
          (rowNLL[r], rowLSE[r]) = softmaxRow(row, vocab: V, target: target, mode: mode)
        }
      }
      for r in 0..<n {
        lossSum += Double(rowNLL[r])
        nll?[Int(rowIDs[r])] = rowNLL[r]
        logSumExp?[Int(rowIDs[r])] = rowLSE[r]
      }

      if let backward {
        // dHidden[chunk] += dlogits[n, V] · W[V, C]
        let dh: UnsafeMutablePointer<Float> = contiguous
          ? backward.dHidden + first * C : scratch.packedDHidden.pointer(count: chunk * C)
        let beta: Float = contiguous ? 1 : 0
        // dWeight[V, C] (+)= dlogits[n, V]ᵀ · h[n, C]
        let betaW: Float = start == 0 && !backward.accumulateWeight ? 0 : 1
        switch weight {
        case .f32(let w):
          Gemm.f32(transA: false, transB: false, m: n, n: C, k: V, a: logits, lda: V, b: w,
                   ldb: C, beta: beta, c: dh, ldc: C)
          Gemm.f32(transA: true, transB: false, m: V, n: C, k: n, a: logits, lda: V, b: h,
                   ldb: C, beta: betaW, c: backward.dWeight, ldc: C)
        case .bf16(let w):
          Gemm.bf16(transA: false, transB: false, m: n, n: C, k: V, a: dLogitsBF16, lda: 2 * V,
                    b: w, ldb: C, beta: beta, c: dh, ldc: C)
          Gemm.bf16(transA: true, transB: false, m: V, n: C, k: n, a: dLogitsBF16, lda: 2 * V,
                    b: hiddenBF16!, ldb: C, beta: betaW, c: backward.dWeight, ldc: C)
        }
        if !contiguous {
          for r in 0..<n {
            let dst = backward.dHidden + Int(rowIDs[r]) * C
            let src = dh + r * C
            for c in 0..<C { dst[c] += src[c] }
          }
        }
      }
      start += n
    }
    return CrossEntropyResult(lossSum: lossSum, tokenCount: count)
  }

  enum RowMode {
    case lossOnly
    /// row ← scale · (softmax − onehot(target))
    case gradientInPlace(Float)
    /// bf16(scale · (softmax − onehot(target))) written over the row's first 2V bytes
    case gradientBF16(Float)
  }

  /// −log softmax(row)[target] and log Σ exp(row), and in the gradient modes the scaled
  /// softmax gradient. Max and sum use SIMD16 accumulators (two each, to hide latency) and a
  /// vector exp.
  @inline(__always)
  static func softmaxRow(
    _ row: UnsafeMutablePointer<Float>, vocab V: Int, target: Int, mode: RowMode
  ) -> (nll: Float, logSumExp: Float) {
    typealias V16 = SIMD16<Float>
    let raw = UnsafeMutableRawPointer(row)
    let store: Bool
    if case .lossOnly = mode { store = false } else { store = true }
    let xTarget = row[target]

    // Pass 1: max.
    var m0 = V16(repeating: -.infinity), m1 = m0
    var j = 0
    while j + 32 <= V {
      let a = raw.loadUnaligned(fromByteOffset: j * 4, as: V16.self)
      let b = raw.loadUnaligned(fromByteOffset: (j + 16) * 4, as: V16.self)
      m0 = m0.replacing(with: a, where: a .> m0)
      m1 = m1.replacing(with: b, where: b .> m1)
      j += 32
    }
    m0 = m0.replacing(with: m1, where: m1 .> m0)
    var rowMax = m0.max()
    while j < V {
      rowMax = max(rowMax, row[j])
      j += 1
    }
    let mx = V16(repeating: rowMax)

    // Pass 2: e = exp(x − max), sum; e stored in place for the gradient.
    var s0 = V16(), s1 = V16()
    j = 0
    while j + 32 <= V {
      let a = VectorMath.exp(raw.loadUnaligned(fromByteOffset: j * 4, as: V16.self) - mx)
      let b = VectorMath.exp(raw.loadUnaligned(fromByteOffset: (j + 16) * 4, as: V16.self) - mx)
      if store {
        raw.storeBytes(of: a, toByteOffset: j * 4, as: V16.self)
        raw.storeBytes(of: b, toByteOffset: (j + 16) * 4, as: V16.self)
      }
      s0 += a
      s1 += b
      j += 32
    }
    var sum = (s0 + s1).sum()
    while j < V {  // tail of fewer than 32: one lane-padded vector at a time
      let n = min(16, V - j)
      var x = V16(repeating: rowMax)
      for l in 0..<n { x[l] = row[j + l] }
      let e = VectorMath.exp(x - mx)
      for l in 0..<n {
        sum += e[l]
        if store { row[j + l] = e[l] }
      }
      j += n
    }
    let lse = Float(log(Double(sum))) + rowMax
    let nll = lse - xTarget

    // Pass 3: gradient = scale · e / sum − scale · onehot.
    switch mode {
    case .lossOnly:
      break
    case .gradientInPlace(let scale):
      let f = V16(repeating: scale / sum)
      j = 0
      while j + 16 <= V {
        let e = raw.loadUnaligned(fromByteOffset: j * 4, as: V16.self)
        raw.storeBytes(of: e * f, toByteOffset: j * 4, as: V16.self)
        j += 16
      }
      while j < V {
        row[j] *= scale / sum
        j += 1
      }
      row[target] -= scale
    case .gradientBF16(let scale):
      // In place: bf16 element j goes to bytes [2j, 2j+2) of the row it is computed from
      // (`Convert.toBF16InPlace` reads each f32 before those bytes are overwritten).
      let eTarget = row[target]
      Convert.toBF16InPlace(raw, count: V, scale: scale / sum)
      raw.storeBytes(of: BFloat16(eTarget * (scale / sum) - scale), toByteOffset: target * 2,
                     as: BFloat16.self)
    }
    return (nll, lse)
  }
}
