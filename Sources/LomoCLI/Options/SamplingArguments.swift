import ArgumentParser
import LomoModel

/// How `lomo generate` and `lomo chat` pick each next token.
struct SamplingArguments: ParsableArguments {
  @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.")
  var temperature: Float = 0

  @Option(parsing: .unconditional, help: "Nucleus sampling: keep the most likely tokens up to this probability mass.")
  var topP: Float = 1

  @Option(parsing: .unconditional, help: "Seed of the sampler.")
  var seed: UInt64 = 0

  func validate() throws {
    if !(temperature >= 0 && temperature.isFinite) { throw ValidationError("--temperature must be finite and >= 0") }
    if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
  }

  var options: SamplingOptions { SamplingOptions(temperature: temperature, topP: topP, seed: seed) }
}
