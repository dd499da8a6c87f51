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
      Prints the continuation as it is generated, then the token count and speed on stderr. \
      With --chat the prompt is sent as a user message through the model's chat template and \
      generation stops at the end-of-turn token (lomo chat holds a conversation).
      """)

  @OptionGroup(title: "Model") var model: ModelOption

  @Option(help: "The text to continue.")
  var prompt: String

  @Option(parsing: .unconditional, help: "Most tokens to generate.")
  var maxNewTokens = 64

  @OptionGroup(title: "Sampling") var sampling: SamplingArguments

  @Flag(help: "Apply the model's chat template to the prompt (a user turn).")
  var chat = false

  @OptionGroup var runtime: GenerationRuntime

  func validate() throws {
    if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1") }
  }

  func run() throws {
    let loaded = try runtime.load(model)
    let template = chat ? try TextGenerator.chatTemplate(of: loaded, advice: "drop --chat") : nil
    let text = try template.map {
      try TextGenerator.render([ChatMessage(role: "user", content: prompt)], with: $0, of: loaded, what: "the prompt")
    } ?? prompt
    // Template output carries its own special tokens (BOS included where the template writes
    // it), as transformers tokenizes apply_chat_template's text.
    let promptIDs = loaded.tokenizer.encode(text, addSpecial: !chat)
    let generator = try TextGenerator(loaded, template: template, maxSequenceLength: promptIDs.count + maxNewTokens,
                                      streaming: runtime.streaming, command: "generate")
    _ = try generator.stream(promptIDs, maxNewTokens: maxNewTokens, sampling: sampling.options) {
      // The prompt once generation has begun, so that a refused prompt prints only the error.
      if !chat { print(prompt, terminator: "") }
    }
  }
}
