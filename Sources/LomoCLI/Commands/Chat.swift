import ArgumentParser
import Foundation
import LomoCore
import LomoModel
import LomoTokenizer

#if canImport(Glibc)
  import Glibc
#endif

/// `lomo chat`: a conversation with a model through its chat template, one user line at a time.
struct Chat: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Talk with a model through its chat template (multi-turn, from stdin).",
    discussion: """
      Reads one user message per line from stdin, a terminal or a pipe: /reset clears the \
      history (the --system prompt stays), /quit or the end of the input ends the session. \
      Each turn renders the whole history with the model's chat template and the generation \
      prompt, prints the reply as it is generated (stopping at EOS or the template's \
      end-of-turn token), then its token count and speed on stderr. When the history and \
      --max-new-tokens no longer fit the model's context, the oldest exchanges are dropped, \
      with a note on stderr.
      """)

  @OptionGroup(title: "Model") var model: ModelOption

  @Option(help: "A system prompt at the start of the conversation. (default: none; the template may write its own)")
  var system: String?

  @Option(parsing: .unconditional, help: "Most tokens of each reply.")
  var maxNewTokens = 256

  @OptionGroup(title: "Sampling") var sampling: SamplingArguments
  @OptionGroup var runtime: GenerationRuntime

  func validate() throws {
    if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1") }
  }

  func run() throws {
    let loaded = try runtime.load(model)
    let template = try TextGenerator.chatTemplate(of: loaded, advice: "lomo chat needs one (lomo generate continues plain text)")
    let context = loaded.parameters.config.maxContext
    let generator = try TextGenerator(loaded, template: template, maxSequenceLength: context, streaming: runtime.streaming,
                                      command: "chat")
    let interactive = isatty(STDIN_FILENO) != 0
    var history = ChatHistory(system: system)
    // Each turn's prompt starts with the previous one and its reply: only the rest runs.
    let session = GenerationSession()
    // The prompt leaves room for a reply of --max-new-tokens, at most half the context (a
    // longer reply ends at the context's end).
    let budget = max(1, context - min(maxNewTokens, context / 2))
    while true {
      if interactive { Diagnostics.write("> ") }
      guard let line = readLine(), line != "/quit" else { break }
      if line == "/reset" {
        history.reset()
        Diagnostics.note("history cleared", from: "chat")
        continue
      }
      if line.allSatisfy(\.isWhitespace) { continue }
      history.append(ChatMessage(role: "user", content: line))
      let fitted = try history.fitted(within: budget) { messages in
        let text = try TextGenerator.render(messages, with: template, of: loaded, what: "the conversation")
        return loaded.tokenizer.encode(text, addSpecial: false)
      }
      guard let (ids, dropped) = fitted else {
        history.removeLast()
        Diagnostics.note("that message does not fit the context of \(context) tokens with --max-new-tokens \(maxNewTokens); send a shorter one", from: "chat")
        continue
      }
      if dropped > 0 {
        Diagnostics.note("the history no longer fits the context of \(context) tokens: dropped the oldest \(dropped) exchange\(dropped == 1 ? "" : "s")", from: "chat")
      }
      let reply = try generator.stream(ids, maxNewTokens: maxNewTokens, sampling: sampling.options, session: session)
      let text = loaded.tokenizer.decode(reply.filter { !generator.stopTokens.contains($0) }, skipSpecial: true)
      history.append(ChatMessage(role: "assistant", content: text))
    }
  }
}
