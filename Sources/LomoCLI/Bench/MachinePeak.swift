import Foundation
import LomoCore
import LomoKernels

/// The arithmetic peak that `lomo bench` reports model FLOP utilisation against, measured on
/// this machine rather than taken from a datasheet.
enum MachinePeak {
  struct Measurement: Codable, Sendable {
    var gflops: Double
    /// How it was measured.
    var source: String
  }

  /// The peak of the GEMMs that a step with weights of `dtype` runs: bf16 weights multiply in
  /// bf16 where `Runtime.sixteenBitProducts` is bf16 (the fastest raw `Gemm.bf16` of a large
  /// square-ish product, operands already bf16); f32 and f16 weights, and bf16 ones with f32
  /// products, in f32 (an FMA-throughput loop). Run it before other oneDNN work of the process,
  /// so that no OpenMP worker competes with the FMA loop.
  static func measure(for dtype: DType, threads: Int) -> Measurement {
    guard dtype == .bf16, Runtime.sixteenBitProducts == .bf16 else {
      let widened = dtype == .bf16 ? " (bf16 weights multiply in f32 on this CPU: LOMO_PRODUCTS)" : ""
      return Measurement(
        gflops: FMAPeak.gflops(threads: threads),
        source: "f32 FMA loop, \(FMAPeak.chains) chains of SIMD16<Float> on each of \(threads) threads\(widened)")
    }
    let layer = LinearLayer(name: "peak", inDim: 4096, outDim: 4096)
    var rng = Xoshiro256(seed: 7)
    let seconds = LinearBench(layer, rows: 2048, rng: &rng).bestRawBF16Forward(repeats: 5)
    return Measurement(
      gflops: GemmResult.flops(m: 2048, n: 4096, k: 4096) / seconds / 1e9,
      source: "fastest raw Gemm.bf16 2048×4096×4096 of 5, operands already bf16")
  }

  /// "CPU model name, N threads" from /proc/cpuinfo.
  static func machineDescription(threads: Int) -> String {
    let model = CPUInfo.field("model name") ?? "unknown CPU"
    return "\(model), \(threads) threads"
  }
}
