import LomoCore

/// The order in which one epoch visits the training examples: a pure function of
/// (example lengths, batch size, seed, epoch), so a resumed run can recompute it.
///
/// 1. shuffle all indices with `Xoshiro256(seed: seed &+ epoch)` (Fisher–Yates);
/// 2. cut the shuffled list into chunks of `groupChunkBatches · batchSize` examples, sort each
///    chunk by length (longest first; ties keep the shuffled order), and cut it into batches,
///    so a batch holds examples of similar length and wastes little padding;
/// 3. shuffle the batches with the same generator, so lengths do not march through the epoch.
///
/// Every example appears exactly once per epoch; only the last batch may be short.
public enum DataOrder {
  public static func batches(
    lengths: [Int], batchSize: Int, seed: UInt64, epoch: Int, groupChunkBatches: Int = 50
  ) -> [[Int]] {
    precondition(batchSize >= 1 && groupChunkBatches >= 1, "batch size and chunk must be >= 1")
    var rng = Xoshiro256(seed: seed &+ UInt64(epoch))
    var order = Array(lengths.indices)
    shuffle(&order, using: &rng)
    let chunk = batchSize * groupChunkBatches
    var batches: [[Int]] = []
    batches.reserveCapacity((lengths.count + batchSize - 1) / batchSize)
    var start = 0
    while start < order.count {
      let end = min(start + chunk, order.count)
      // Stable sort by descending length: ties stay in shuffled order.
      let sorted = order[start..<end].enumerated()
        .sorted { a, b in
          lengths[a.element] != lengths[b.element]
            ? lengths[a.element] > lengths[b.element] : a.offset < b.offset
        }
        .map(\.element)
      var i = 0
      while i < sorted.count {
        batches.append(Array(sorted[i..<min(i + batchSize, sorted.count)]))
        i += batchSize
      }
      start = end
    }
    shuffle(&batches, using: &rng)
    return batches
  }

  /// Fisher–Yates with our own generator and an unbiased bounded draw (the standard library's
  /// `shuffle(using:)` does not promise a stable algorithm across releases).
  static func shuffle<T>(_ a: inout [T], using rng: inout Xoshiro256) {
    guard a.count > 1 else { return }
    for i in stride(from: a.count - 1, to: 0, by: -1) {
      let j = Int(bounded(UInt64(i + 1), &rng))
      a.swapAt(i, j)
    }
  }

  /// Uniform in 0..<n by rejection (Lemire's multiply-shift with a threshold).
  static func bounded(_ n: UInt64, _ rng: inout Xoshiro256) -> UInt64 {
    let threshold = (0 &- n) % n
    while true {
      let r = rng.next()
      let m = r.multipliedFullWidth(by: n)
      if m.low >= threshold { return m.high }
    }
  }
}
