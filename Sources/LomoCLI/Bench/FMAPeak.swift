import Dispatch
import LomoCore

/// The f32 FMA throughput of this machine, measured rather than assumed.
///
/// Each thread runs `chains` independent accumulator chains of `SIMD16<Float>` fused
/// multiply-adds (one AVX-512 `vfmadd231ps` each). With more chains than FMA latency × FMA
/// ports, the loop is bound by FMA issue rate alone, so it reaches the hardware peak that a
/// GEMM can at best approach.
enum FMAPeak {
  /// One register per chain. 8 chains cover 2 FMA ports × 4 cycles of latency; 12 leave margin.
  private typealias Accumulators = InlineArray<12, SIMD16<Float>>

  /// Independent accumulator chains per thread.
  static var chains: Int { Accumulators.count }

  /// Best GFLOP/s of `trials` runs of `iterations` loop rounds on each of `threads` threads,
  /// started together with `DispatchQueue.concurrentPerform`.
  static func gflops(threads: Int, iterations: Int = 1 << 25, trials: Int = 3) -> Double {
    let flops = Double(threads * iterations * chains * SIMD16<Float>.scalarCount * 2)
    var best = Double.infinity
    for _ in 0..<trials {
      let seconds = Stopwatch.seconds {
        DispatchQueue.concurrentPerform(iterations: threads) { t in
          // Keep the result observable so the loop is not optimised away.
          precondition(fmaChains(iterations: iterations, seed: Float(t + 1)).isFinite)
        }
      }
      best = min(best, seconds)
    }
    return flops / best / 1e9
  }

  /// `iterations` rounds of `chains` independent `acc = acc + x * y`; returns the sum of the
  /// accumulators. Not inlined, so each thread runs the same register-resident loop.
  @inline(never)
  private static func fmaChains(iterations: Int, seed: Float) -> Float {
    var acc = Accumulators(repeating: SIMD16(repeating: seed))
    let x = SIMD16<Float>(repeating: 1e-7)
    let y = SIMD16<Float>(repeating: seed)
    for _ in 0..<iterations {
      for c in acc.indices { acc[c] = acc[c].addingProduct(x, y) }
    }
    var total = SIMD16<Float>()
    for c in acc.indices { total += acc[c] }
    return total.sum()
  }
}
