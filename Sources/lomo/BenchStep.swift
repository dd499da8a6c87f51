import ArgumentParser
import Foundation
import LomoCore
import LomoKernels
import LomoModel

/// `lomo bench-step`: time forward + backward of one training step on random tokens, with the
/// gradients handed to an updater that discards them (the cost of the engine alone, before
/// any optimizer). `lomo bench` with optimizers builds on it.
struct BenchStep: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-step",
    abstract: "Time forward + backward of one training step (no optimizer) on a real model.")

  @Option(help: "A .gguf file, a Hugging Face folder, or '\(ModelSource.defaultName)'.")
  var model: String?

  @Option(help: "Weight storage: f32, bf16 or f16.")
  var dtype: String = "f32"

  @Option(help: "Sequences per step.") var batchSize = 4
  @Option(help: "Tokens per sequence.") var seqLen = 512
  @Option(help: "Timed steps after one warm-up step.") var steps = 3
  @Option(help: "Worker threads (default: all cores).") var threads: Int?
  @Flag(help: "Keep only layer inputs and recompute layers in backward.")
  var activationCheckpointing = false

  func run() throws {
    guard let storage = DType(rawValue: dtype) else { throw ValidationError("--dtype must be f32, bf16 or f16") }
    Runtime.setThreadCount(threads ?? Threads.hardwareCount)
    let parameters = try ModelSource.resolve(model).loadParameters(dtype: storage)
    let llama = LlamaModel(parameters: parameters, activationCheckpointing: activationCheckpointing)
    let n = batchSize * seqLen
    var rng = Xoshiro256(seed: 1)
    let tokens = (0..<n).map { _ in Int32.random(in: 0..<Int32(parameters.config.vocabSize), using: &rng) }
    let targets = Array(tokens.dropFirst()) + [-100]
    let discard = DiscardingUpdater()
    var forward: [Double] = [], backward: [Double] = []
    for step in 0...steps {
      let f = Stopwatch.seconds { llama.forward(tokens: tokens, targets: targets, batch: batchSize, time: seqLen) }
      let b = Stopwatch.seconds { llama.backward(updater: discard) }
      if step > 0 { forward.append(f); backward.append(b) }
      FileHandle.standardError.write("step \(step)\(step == 0 ? " (warm-up)" : ""): forward \(String(format: "%.2f", f)) s, backward \(String(format: "%.2f", b)) s\n".data(using: .utf8)!)
    }
    let total = forward.median + backward.median
    let flops = 6.0 * Double(parameters.config.parameterCount) * Double(n)
    print(String(format: "forward %.2f s, backward %.2f s, step %.2f s, %.0f tokens/s, %.1f GFLOP/s (6·params·tokens)",
                 forward.median, backward.median, total, Double(n) / total, flops / total / 1e9))
    let usage = MemoryLedger.shared.usage
    for category in MemoryCategory.allCases {
      print(String(format: "  %-15@ %8.1f MiB", category.rawValue as NSString, Double(usage.peak[category] ?? 0) / 1048576))
    }
    print(String(format: "  peak RSS        %8.1f MiB", Double(ProcessMemory.peakResidentBytes ?? 0) / 1048576))
  }
}

/// Receives gradients and drops them.
final class DiscardingUpdater: ParameterUpdater {
  func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>) {}
}
