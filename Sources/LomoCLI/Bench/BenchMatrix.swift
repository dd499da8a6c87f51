import Foundation
import LomoCore

/// `lomo bench --matrix`: the paper's comparisons (optimizers, activation checkpointing,
/// storage types, clipping, inference) on one model and batch shape, each case in a fresh
/// `lomo bench --json` process so that every peak RSS is that case's own.
struct BenchMatrix {
  let base: Bench

  /// The cases, in table order.
  var cases: [BenchCase] {
    func make(_ mode: BenchCase.Mode, _ dtype: DType, checkpointing: Bool = false,
              clip: Float = 0, model: String? = nil, batch: Int? = nil) -> BenchCase {
      BenchCase(model: model ?? base.model, mode: mode, dtype: dtype,
                batchSize: batch ?? base.batchSize, seqLen: base.seqLen,
                activationCheckpointing: checkpointing, clipGradNorm: clip)
    }
    var list = [
      make(.lomo, .f32), make(.lomo, .f32, checkpointing: true), make(.lomo, .f32, clip: 1),
      make(.lomo, .bf16), make(.lomo, .bf16, checkpointing: true),
      make(.adalomo, .f32),
      make(.sgd, .f32), make(.sgd, .f32, checkpointing: true),
      make(.adamw, .f32), make(.adamw, .f32, checkpointing: true),
      make(.inference, .f32), make(.inference, .bf16),
    ]
    if base.with7b {
      list += [make(.lomo, .bf16, checkpointing: true, model: "llama-7b", batch: 1),
               make(.inference, .bf16, model: "llama-7b", batch: 1)]
    }
    return list
  }

  func run() throws {
    let threads = base.threadCount
    var peaks: [DType: MachinePeak.Measurement] = [:]
    for dtype in [DType.f32, .bf16] {
      progress("measuring the \(dtype) peak")
      peaks[dtype] = MachinePeak.measure(for: dtype, threads: threads)
    }
    var results: [BenchResult] = []
    let all = cases
    for (i, c) in all.enumerated() {
      progress("case \(i + 1)/\(all.count): \(c.model) \(c.label), B=\(c.batchSize) T=\(c.seqLen)")
      let peak = peaks[c.dtype == .bf16 ? .bf16 : .f32]!
      let arguments = ["bench"] + c.arguments + [
        "--steps", "\(base.steps)", "--warmup-steps", "\(base.warmupSteps)", "--threads", "\(threads)",
        "--json", "--peak-gflops", "\(peak.gflops)", "--peak-source", peak.source]
      results.append(try runChild(arguments))
    }
    print(BenchReport.markdown(results, machine: MachinePeak.machineDescription(threads: threads), peaks: peaks))
  }

  /// Runs `lomo ARGUMENTS` (stderr passed through) and decodes the JSON it prints.
  private func runChild(_ arguments: [String]) throws -> BenchResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
    process.arguments = arguments
    let stdout = Pipe()
    process.standardOutput = stdout
    try process.run()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw CommandError("lomo \(arguments.joined(separator: " ")) failed with status \(process.terminationStatus)")
    }
    do {
      return try JSONField(JSONValue(parsing: data)).decode(BenchResult.self)
    } catch {
      throw CommandError("lomo \(arguments.joined(separator: " ")) printed JSON lomo cannot read: \(error)")
    }
  }

  private func progress(_ message: String) {
    Diagnostics.note(message, from: "bench --matrix")
  }
}
