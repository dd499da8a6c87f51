import ArgumentParser
import Foundation
import LomoCore
import LomoKernels
import LomoModel
import LomoTokenizer

/// `lomo generate`: continue a prompt with a model.
struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Continue a prompt with a model (greedy by default).",
    discussion: """
      Prints the continuation as it is generated. With --chat the prompt is sent as a user \
      message through the model's chat template and generation stops at the end-of-turn token.
      """)

  @OptionGroup(title: "Model") var model: ModelOption

  @Option(help: "The text to continue.")
  var prompt: String

  @Option(parsing: .unconditional, help: "Most tokens to generate.")
  var maxNewTokens = 64

  @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.")
  var temperature: Float = 0

  @Option(parsing: .unconditional, help: "Nucleus sampling: keep the most likely tokens up to this probability mass.")
  var topP: Float = 1

  @Option(parsing: .unconditional, help: "Seed of the sampler.")
  var seed: UInt64 = 0

  @Flag(help: "Apply the model's chat template to the prompt (a user turn).")
  var chat = false

  @OptionGroup(title: "Storage") var storage: DTypeOption
  @OptionGroup(title: "Models larger than memory") var streaming: StreamingOptions
  @OptionGroup var threads: ThreadsOption

  func validate() throws {
    if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1") }
    if !(temperature >= 0 && temperature.isFinite) { throw ValidationError("--temperature must be finite and >= 0") }
    if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
  }

  func run() throws {
    threads.apply()
    if !streaming.streamWeights { try StreamingPlan.refuseWeightsThatCannotFit(model.model, dtype: storage.dtype) }
    let loaded = try model.load(dtype: storage.dtype, streamingLayersIn: streaming.folderOrCurrent)
    let text: String
    var stops: Set<Int32> = loaded.tokenizer.eosID.map { [$0] } ?? []
    if chat {
      guard let found = loaded.chatTemplate else {
        throw CommandError("\(loaded.source.path) has no chat template; drop --chat")
      }
      let template = try found.get()
      do {
        text = try template.render([ChatMessage(role: "user", content: prompt)], addGenerationPrompt: true)
      } catch {
        throw CommandError("\(loaded.source.path): the chat template failed on the prompt: \(error.description)")
      }
      if let end = template.endOfTurn.flatMap(loaded.tokenizer.id(for:)) { stops.insert(end) }
    } else {
      text = prompt
    }
    // Template output carries its own special tokens (BOS included where the template writes
    // it), as transformers tokenizes apply_chat_template's text.
    let promptIDs = loaded.tokenizer.encode(text, addSpecial: !chat)
    try StreamingPlan.planInference(loaded.parameters, batchSize: 1,
                                    maxSeqLen: min(loaded.parameters.config.maxContext, promptIDs.count + maxNewTokens),
                                    streamBudget: streaming.streamBudget, from: "generate")
    if let (id, index) = loaded.parameters.firstNonFinite() {
      throw CommandError("""
        \(loaded.source.path): weight \(index) of \(id) is not finite (inf or NaN): the model is \
        broken (written by a diverged training run?); use another model
        """)
    }
    let llama = LlamaModel(parameters: loaded.parameters)
    let options = SamplingOptions(temperature: temperature, topP: topP, seed: seed)
    var generated: [Int32] = []
    var printed = ""
    _ = try llama.generate(prompt: promptIDs, maxNewTokens: maxNewTokens, options: options,
                       stopTokens: stops) { token in
      // The prompt once generation has begun, so that a refused prompt prints only the error.
      if generated.isEmpty && !chat { print(prompt, terminator: "") }
      generated.append(token)
      // Decode the whole continuation each time: a multi-byte character may span tokens.
      let text = loaded.tokenizer.decode(generated, skipSpecial: true)
      if text.hasPrefix(printed) && !text.hasSuffix("\u{FFFD}") {
        print(text.dropFirst(printed.count), terminator: "")
        printed = text
        fflush(nil)  // all output streams: stdout is a C global Swift 6 will not touch
      }
    }
    print()
  }
}
