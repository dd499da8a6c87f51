import Dispatch
import Synchronization

/// The number of worker threads kernels use: all cores by default.
///
/// `LomoKernels.Runtime.setThreadCount` also forwards the value to oneDNN's OpenMP runtime.
public enum Threads {
  private static let configured = Atomic<Int>(0)

  public static var hardwareCount: Int { max(1, System.coreCount) }

  public static var count: Int {
    let n = configured.load(ordering: .relaxed)
    return n > 0 ? n : hardwareCount
  }

  /// - Precondition: `n >= 1`.
  public static func setCount(_ n: Int) {
    precondition(n >= 1, "thread count must be at least 1")
    configured.store(n, ordering: .relaxed)
  }

  /// Splits `0..<total` into `count` contiguous ranges (at least `minChunk` items each) and
  /// runs `body` on them in parallel. Runs inline when one range suffices.
  public static func parallelFor(
    _ total: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void
  ) {
    guard total > 0 else { return }
    let parts = min(count, max(1, total / max(1, minChunk)))
    if parts == 1 {
      body(0..<total)
      return
    }
    withoutActuallyEscaping(body) { body in
      let box = UncheckedSendable(body)
      DispatchQueue.concurrentPerform(iterations: parts) { p in
        let lo = total * p / parts
        let hi = total * (p + 1) / parts
        box.value(lo..<hi)
      }
    }
  }
}

/// Wraps a value that is safe to share because the caller guarantees disjoint access.
public struct UncheckedSendable<Value>: @unchecked Sendable {
  public let value: Value
  public init(_ value: Value) { self.value = value }
}

enum System {
  static var coreCount: Int {
    #if canImport(Glibc)
      return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
      return 1
    #endif
  }
}

#if canImport(Glibc)
  import Glibc
#endif
