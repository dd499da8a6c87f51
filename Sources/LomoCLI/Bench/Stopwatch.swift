/// Wall-clock timing for the benchmarks, on the monotonic clock.
enum Stopwatch {
  /// Seconds that one call of `body` takes.
  static func seconds(_ body: () -> Void) -> Double {
    let d = ContinuousClock().measure(body)
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }

  /// Seconds of each of `repeats` calls of `body`, after `warmUp` untimed calls (which absorb
  /// first-touch page faults, oneDNN's JIT code generation and primitive creation).
  static func samples(repeats: Int, warmUp: Int = 1, _ body: () -> Void) -> [Double] {
    for _ in 0..<warmUp { body() }
    return (0..<repeats).map { _ in seconds(body) }
  }
}

extension Array where Element == Double {
  /// The median (mean of the middle two for an even count). - Precondition: not empty.
  var median: Double {
    precondition(!isEmpty, "median of no samples")
    let s = sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }
}
