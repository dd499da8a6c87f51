import LomoCore

/// Token embedding lookup. Rows N = B*T.
///
/// - `forward`:  out[N, C] = table[tokens[n], :]                 (overwrites out)
/// - `backward`: dTable[tokens[n], :] += dOut[n, :] for every n   (accumulates; repeated
///   tokens sum their rows); with `tableRows` only the tokens in that range, into the slice
///   dTable[token − tableRows.lowerBound] (the table's gradient one slice at a time)
public enum Embedding {
  /// - Precondition: every token is in `0..<vocab` (validate untrusted ids before).
  public static func forward(
    out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, table: WeightPointer,
    rows: Int, channels: Int, vocab: Int
  ) {
    Threads.parallelFor(rows, minChunk: 16) { range in
      for n in range {
        let token = Int(tokens[n])
        precondition(token >= 0 && token < vocab, "token id \(token) outside vocabulary 0..<\(vocab)")
        let dst = out + n * channels
        switch table {
        case .f32(let t): dst.update(from: t + token * channels, count: channels)
        case .bf16(let t): Convert.toFloat(dst, t + token * channels, count: channels)
        }
      }
    }
  }

  /// Parallel over channel slices, so rows with the same token never race.
  public static func backward(
    dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, tokens: UnsafePointer<Int32>,
    rows: Int, channels: Int, tableRows: Range<Int>? = nil
  ) {
    let first = tableRows?.lowerBound ?? 0, end = tableRows?.upperBound ?? Int.max
    Threads.parallelFor(channels, minChunk: 64) { cols in
      for n in 0..<rows {
        let token = Int(tokens[n])
        guard token >= first && token < end else { continue }
        let src = dOut + n * channels
        let dst = dTable + (token - first) * channels
        for c in cols { dst[c] += src[c] }
      }
    }
  }
}
