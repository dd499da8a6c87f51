import Synchronization

/// What a long-lived buffer is for; the memory table of the LOMO paper has one column each,
/// plus the whole layers a sharded (ZeRO-3) model gathers from the ranks' shards.
public enum MemoryCategory: String, CaseIterable, Sendable {
  case parameters, gradients, optimizerState, activations, scratch, gatheredWeights

  /// Whether a memory report lists this category with `peak` bytes: every category of the
  /// paper's table always, gathered weights only when a sharded run had some.
  public func isReported(peak: Int) -> Bool { self != .gatheredWeights || peak > 0 }
}

/// Live and peak bytes per category, for every buffer registered with the ledger.
public struct MemoryUsage: Sendable, Equatable {
  public var live: [MemoryCategory: Int]
  public var peak: [MemoryCategory: Int]
  /// Peak of the sum over categories (not the sum of the per-category peaks).
  public var peakTotal: Int
  public var liveTotal: Int { live.values.reduce(0, +) }
}

/// Accounts every long-lived buffer by category. Thread-safe.
///
/// `AlignedBuffer` registers itself on allocation and releases on deinit, so the ledger's
/// live bytes equal what the process holds in tensors; RSS adds the runtime, code and
/// allocator overhead on top.
public final class MemoryLedger: Sendable {
  public static let shared = MemoryLedger()

  private struct State {
    var live = Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.map { ($0, 0) })
    var peak = Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.map { ($0, 0) })
    var total = 0
    var peakTotal = 0
  }

  private let state = Mutex(State())

  public init() {}

  public func allocate(_ bytes: Int, as category: MemoryCategory) {
    state.withLock { s in
      s.live[category, default: 0] += bytes
      s.peak[category] = max(s.peak[category, default: 0], s.live[category, default: 0])
      s.total += bytes
      s.peakTotal = max(s.peakTotal, s.total)
    }
  }

  public func release(_ bytes: Int, as category: MemoryCategory) {
    state.withLock { s in
      s.live[category, default: 0] -= bytes
      s.total -= bytes
    }
  }

  public var usage: MemoryUsage {
    state.withLock { MemoryUsage(live: $0.live, peak: $0.peak, peakTotal: $0.peakTotal) }
  }

  /// Sets every peak to the current live value, to measure the peak of one phase.
  public func resetPeaks() {
    state.withLock { s in
      s.peak = s.live
      s.peakTotal = s.total
    }
  }
}
