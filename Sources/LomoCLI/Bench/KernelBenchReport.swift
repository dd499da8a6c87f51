import Foundation
import LomoCore

/// A measured throughput: median time of one call, GFLOP/s and the share of a peak.
struct Throughput: Codable, Sendable {
  var milliseconds: Double
  var gflops: Double
  var percentOfPeak: Double

  /// From the median `seconds` of a product of `flops` floating-point operations.
  init(seconds: Double, flops: Double, peakGflops: Double) {
    milliseconds = seconds * 1e3
    gflops = flops / seconds / 1e9
    percentOfPeak = 100 * gflops / peakGflops
  }
}

/// A peak throughput and how it was obtained.
struct Peak: Codable, Sendable {
  var gflops: Double
  var source: String
}

/// One GEMM shape in both storage types.
struct GemmResult: Codable, Sendable {
  var layer: String
  var layout: GemmLayout
  var m: Int, n: Int, k: Int
  var f32: Throughput
  var bf16: Throughput

  /// Floating-point operations of one product: 2·M·N·K.
  static func flops(m: Int, n: Int, k: Int) -> Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// Everything `lomo bench-kernels` measured, printable as an aligned table or as JSON.
struct KernelBenchReport: Codable, Sendable {
  var threads: Int
  var rows: Int
  var repeats: Int
  var f32Peak: Peak
  var bf16Peak: Peak
  var gemms: [GemmResult]

  /// A fixed-width table, one line per GEMM, f32 and bf16 side by side.
  func table() -> String {
    var lines = [
      "lomo bench-kernels: \(threads) threads, N = B·T = \(rows) rows, "
        + "median of \(repeats) calls after 1 warm-up",
      "f32 peak  " + String(format: "%8.1f", f32Peak.gflops) + " GFLOP/s  (\(f32Peak.source))",
      "bf16 peak " + String(format: "%8.1f", bf16Peak.gflops) + " GFLOP/s  (\(bf16Peak.source))",
      "f32: MatMul with f32 weights (dnnl_sgemm). bf16: MatMul with bf16 weights (dW: bf16Operands),",
      "including its rounding of f32 activations to bf16. % peak: of the peak of the same type.",
      "",
      TextTable.pad("layer", to: 10) + TextTable.pad("layout", to: 8)
        + ["M", "N", "K"].map { TextTable.pad($0, to: 7, .right) }.joined()
        + ["f32 ms", "GFLOP/s", "%peak", "bf16 ms", "GFLOP/s", "%peak"].map { TextTable.pad($0, to: 10, .right) }
        .joined(),
    ]
    for g in gemms {
      lines.append(
        TextTable.pad(g.layer, to: 10) + TextTable.pad(g.layout.rawValue, to: 8)
          + String(format: "%7d%7d%7d", g.m, g.n, g.k)
          + String(format: "%10.3f%10.1f%10.1f", g.f32.milliseconds, g.f32.gflops,
                   g.f32.percentOfPeak)
          + String(format: "%10.3f%10.1f%10.1f", g.bf16.milliseconds, g.bf16.gflops,
                   g.bf16.percentOfPeak))
    }
    return lines.joined(separator: "\n")
  }

  /// Pretty-printed JSON with sorted keys.
  func json() throws -> String {
    String(decoding: try JSONValue(encoding: self).serialized([.pretty, .sortedKeys]), as: UTF8.self)
  }
}
