import Foundation
import LomoCore

/// The arithmetic peak that `lomo bench` reports model FLOP utilisation against, measured on
/// this machine rather than taken from a datasheet.
enum MachinePeak {
  struct Measurement: Codable, Sendable {
    var gflops: Double
    /// How it was measured.
    var source: String
  }

  /// The peak of the GEMMs that weights of `dtype` use: bf16 weights multiply in bf16
  /// (the fastest raw `Gemm.bf16` of a large square-ish product, operands already bf16);
  /// f32 and f16 weights in f32 (an FMA-throughput loop). Run it before other oneDNN work of
  /// the process, so that no OpenMP worker competes with the FMA loop.
  static func measure(for dtype: DType, threads: Int) -> Measurement {
    switch dtype {
    case .f32, .f16:
      return Measurement(
        gflops: FMAPeak.gflops(threads: threads),
        source: "f32 FMA loop, \(FMAPeak.chains) chains of SIMD16<Float> on each of \(threads) threads")
    case .bf16:
      let layer = LinearLayer(name: "peak", inDim: 4096, outDim: 4096)
      var rng = Xoshiro256(seed: 7)
      let seconds = LinearBench(layer, rows: 2048, rng: &rng).bestRawBF16Forward(repeats: 5)
      return Measurement(
        gflops: GemmResult.flops(m: 2048, n: 4096, k: 4096) / seconds / 1e9,
        source: "fastest raw Gemm.bf16 2048×4096×4096 of 5, operands already bf16")
    }
  }

  /// "CPU model name, N threads" from /proc/cpuinfo.
  static func machineDescription(threads: Int) -> String {
    let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }
      .flatMap { $0.split(separator: ":", maxSplits: 1).last }
      .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    return "\(model), \(threads) threads"
  }
}
