import ArgumentParser
import Foundation
import LomoCore
import LomoKernels

/// `lomo bench-kernels`: GFLOP/s of the GEMMs of SmolLM2-135M training next to the measured
/// peak of this machine. A micro-benchmark, not a test: it asserts nothing about speed.
/// Compare its f32 column with `bench/sgemm_c.c` (see bench/README.md).
struct BenchKernels: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-kernels",
    abstract: "Time the GEMMs of SmolLM2-135M training (f32 and bf16) against this CPU's peak.",
    discussion: """
      Every linear layer of SmolLM2-135M (q/o, k/v, gate/up, down, LM head) at N = B·T = 2048
      rows, in the three layouts of training (forward, dInp, dW), through MatMul with f32 and
      with bf16 weights. The f32 peak is measured with an FMA-throughput loop; the bf16 peak is
      the fastest raw bf16 GEMM (forward shapes, operands already bf16). Progress goes to stderr.
      """)

  /// N = B·T of the benchmarked training step.
  static let rows = 2048

  @OptionGroup var threads: ThreadsOption

  @Option(parsing: .unconditional, help: "Timed calls per GEMM after one warm-up; the median is reported.")
  var repeats = 7

  @Flag(help: "Print the results as JSON instead of a table.")
  var json = false

  func validate() throws {
    if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
  }

  func run() throws {
    let threadCount = threads.count
    threads.apply()

    // Before any oneDNN call, so that no OpenMP worker competes with the FMA loop.
    progress("measuring the f32 FMA peak on \(threadCount) threads")
    let f32Peak = Peak(
      gflops: FMAPeak.gflops(threads: threadCount),
      source: "measured: \(FMAPeak.chains) chains of SIMD16<Float> FMA on each of "
        + "\(threadCount) threads")

    var rng = Xoshiro256(seed: 42)
    var timings: [(LinearLayer, GemmLayout, f32: Double, bf16: Double)] = []
    var bf16Peak = Peak(gflops: 0, source: "")
    for layer in LinearLayer.smolLM2_135M {
      let bench = LinearBench(layer, rows: Self.rows, rng: &rng)
      for layout in GemmLayout.allCases {
        progress("\(layer.name) \(layout.rawValue)")
        timings.append((layer, layout,
                        bench.samples(layout, .f32, repeats: repeats).median,
                        bench.samples(layout, .bf16, repeats: repeats).median))
      }
      progress("\(layer.name) raw bf16 forward, for the bf16 peak")
      let (m, n, k) = GemmLayout.forward.dims(layer, rows: Self.rows)
      let seconds = bench.bestRawBF16Forward(repeats: repeats)
      let gflops = GemmResult.flops(m: m, n: n, k: k) / seconds / 1e9
      if gflops > bf16Peak.gflops {
        bf16Peak = Peak(
          gflops: gflops,
          source: "measured: fastest raw Gemm.bf16 forward, \(layer.name) \(m)×\(n)×\(k), "
            + "operands converted beforehand")
      }
    }

    let report = KernelBenchReport(
      threads: threadCount, rows: Self.rows, repeats: repeats, f32Peak: f32Peak,
      bf16Peak: bf16Peak,
      gemms: timings.map { layer, layout, f32, bf16 in
        let (m, n, k) = layout.dims(layer, rows: Self.rows)
        let flops = GemmResult.flops(m: m, n: n, k: k)
        return GemmResult(
          layer: layer.name, layout: layout, m: m, n: n, k: k,
          f32: Throughput(seconds: f32, flops: flops, peakGflops: f32Peak.gflops),
          bf16: Throughput(seconds: bf16, flops: flops, peakGflops: bf16Peak.gflops))
      })
    print(json ? try report.json() : report.table())
  }

  /// One line of progress on stderr, so that stdout stays the table or the JSON.
  private func progress(_ message: String) {
    Diagnostics.note(message, from: "bench-kernels")
  }
}
