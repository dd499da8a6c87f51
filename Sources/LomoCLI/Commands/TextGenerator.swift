import Foundation
import LomoCore
import LomoModel
import LomoTokenizer

/// A model ready to generate text for `lomo generate` and `lomo chat`: loaded (refused when it
/// cannot fit without --stream-weights), checked finite, its streamed layers planned, and the
/// tokens that end a reply.
struct TextGenerator {
  let loaded: LoadedModel
  let llama: LlamaModel
  /// EOS, and with a chat template its end-of-turn token.
  let stopTokens: Set<Int32>

  /// Readies `loaded` for sequences of up to `maxSequenceLength` tokens (with streamed
  /// layers, memory is planned for that; `command` names the command in the note), stopping
  /// at EOS and `template`'s end-of-turn token. A model with a non-finite weight is refused.
  init(_ loaded: LoadedModel, template: ChatTemplate?, maxSequenceLength: Int, streaming: StreamingOptions,
       command: String) throws {
    self.loaded = loaded
    var stops: Set<Int32> = loaded.tokenizer.eosID.map { [$0] } ?? []
    if let end = template?.endOfTurn.flatMap(loaded.tokenizer.id(for:)) { stops.insert(end) }
    stopTokens = stops
    try StreamingPlan.planInference(loaded.parameters, batchSize: 1,
                                    maxSeqLen: min(loaded.parameters.config.maxContext, maxSequenceLength),
                                    streamBudget: streaming.streamBudget, from: command)
    if let (id, index) = loaded.parameters.firstNonFinite() {
      throw CommandError("""
        \(loaded.source.path): weight \(index) of \(id) is not finite (inf or NaN): the model is \
        broken (written by a diverged training run?); use another model
        """)
    }
    llama = LlamaModel(parameters: loaded.parameters)
  }

  /// The model's chat template, or an error naming the model and `advice`.
  static func chatTemplate(of loaded: LoadedModel, advice: String) throws -> ChatTemplate {
    guard let found = loaded.chatTemplate else { throw CommandError("\(loaded.source.path) has no chat template; \(advice)") }
    return try found.get()
  }

  /// `messages` as `template` renders them with the generation prompt; `what` names them in
  /// the error.
  static func render(_ messages: [ChatMessage], with template: ChatTemplate, of loaded: LoadedModel,
                     what: String) throws -> String {
    do {
      return try template.render(messages, addGenerationPrompt: true)
    } catch {
      throw CommandError("\(loaded.source.path): the chat template failed on \(what): \(error.description)")
    }
  }

  /// Generates after `prompt` (up to `maxNewTokens`, ending after a stop token), printing the
  /// text to stdout as it comes (special tokens left out, stdout flushed), and then the count
  /// and speed to stderr ("N tokens in S s, X tokens/s"). `beforeFirstToken` runs once, when
  /// the first token is chosen (a refused prompt prints nothing). With `session` (a chat) the
  /// start of `prompt` that the session's cache already ran is not run again. Returns the
  /// tokens.
  func stream(_ prompt: [Int32], maxNewTokens: Int, sampling: SamplingOptions, session: GenerationSession? = nil,
              beforeFirstToken: () -> Void = {}) throws -> [Int32] {
    var generated: [Int32] = []
    var printed = ""
    let start = DispatchTime.now().uptimeNanoseconds
    _ = try llama.generate(prompt: prompt, maxNewTokens: maxNewTokens, options: sampling, stopTokens: stopTokens,
                           session: session) { token in
      if generated.isEmpty { beforeFirstToken() }
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
    fflush(nil)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    Diagnostics.note(Self.speed(tokens: generated.count, seconds: seconds))
    return generated
  }

  /// "N tokens in S s, X tokens/s".
  static func speed(tokens: Int, seconds: Double) -> String {
    let rate = seconds > 0 ? Double(tokens) / seconds : 0
    return "\(tokens) tokens in \(String(format: "%.2f", seconds)) s, \(String(format: "%.1f", rate)) tokens/s"
  }
}
