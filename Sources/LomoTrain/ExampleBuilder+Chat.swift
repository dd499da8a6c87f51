import LomoTokenizer

/// The ids of a conversation and which of them are trained on: `prompt` (the tokens before
/// the first trained turn) + `completion`, `trained` flagging each completion token.
struct ChatIDs: Equatable {
  var prompt: [Int32]
  var completion: [Int32]
  var trained: [Bool]
}

extension ExampleBuilder {
  /// The ids of a conversation, trained on the assistant turns `turns` names, each turn's span
  /// being where the chat template's rendering of the conversation through that turn goes
  /// beyond its rendering of the turns before it with the generation prompt: the reply as the
  /// template writes it, its end-of-turn marker included. EOS is appended to the last turn
  /// when the template does not end it with EOS. Messages after the last assistant turn are
  /// left out.
  ///
  /// The renderings must extend one another (each prompt the start of its turn, each turn the
  /// start of the next prompt). Where the token ids of every rendering start the ids of the
  /// whole conversation, those ids are used; else, where the texts extend, the pieces between
  /// them are tokenized one by one; else it throws `.chatTemplateMismatch` (the last turn's
  /// own prompt) or `.chatTemplateRewritesTurn` (an earlier turn rendered otherwise once later
  /// turns follow). Template text is encoded with `parseSpecial: true` and no tokenizer
  /// BOS/EOS: the template writes the special tokens it wants.
  func chatIDs(_ messages: [ChatMessage], turns: AssistantTurns) throws -> ChatIDs {
    let template = try usableChatTemplate()
    let assistant = messages.indices.filter { messages[$0].role == "assistant" }
    guard let last = assistant.last else { throw ExampleError.noAssistantTurn }
    let trainedTurns = turns == .all ? assistant : [last]
    func render(_ m: ArraySlice<ChatMessage>, generationPrompt: Bool) throws -> String {
      do { return try template.render(Array(m), addGenerationPrompt: generationPrompt) }
      catch { throw ExampleError.chatTemplateFailed(error.description) }
    }
    // The renderings at each turn's start and end, in order; the last is the whole conversation.
    var cuts: [String] = []
    for i in trainedTurns {
      cuts.append(try render(messages[..<i], generationPrompt: true))
      cuts.append(try render(messages[...i], generationPrompt: false))
    }
    func encode(_ text: String) -> [Int32] { encoder.encode(text, addSpecial: false, parseSpecial: true) }
    var (ids, ends) = tokenPrefixes(cuts, encode)
    if ends.count < cuts.count {
      ids = []
      ends = []
      var previous = ""
      for (k, cut) in cuts.enumerated() {
        guard cut.hasPrefix(previous) else {
          throw k == cuts.count - 1 ? ExampleError.chatTemplateMismatch
            : ExampleError.chatTemplateRewritesTurn(index: trainedTurns[(k - 1) / 2])
        }
        ids += encode(String(cut.dropFirst(previous.count)))
        ends.append(ids.count)
        previous = cut
      }
    }
    // Turn j's span is ends[2j]..<ends[2j + 1].
    let start = ends[0]
    var trained = [Bool](repeating: false, count: ids.count - start)
    for j in 0..<trainedTurns.count {
      for t in ends[2 * j]..<ends[2 * j + 1] { trained[t - start] = true }
    }
    if let e = encoder.eosID, !ids[ends[ends.count - 2]...].contains(e) {
      ids.append(e)
      trained.append(true)
    }
    return ChatIDs(prompt: Array(ids[..<start]), completion: Array(ids[start...]), trained: trained)
  }

  /// The ids of the whole conversation (`cuts.last`) and, for each of `cuts` in order while
  /// its ids start those ids at no fewer tokens than the one before, its token count.
  private func tokenPrefixes(_ cuts: [String], _ encode: (String) -> [Int32]) -> ([Int32], [Int]) {
    guard let whole = cuts.last else { return ([], []) }
    let full = encode(whole)
    var ends: [Int] = []
    for cut in cuts.dropLast() {
      let ids = encode(cut)
      guard ids.count >= (ends.last ?? 0), full.starts(with: ids) else { return (full, ends) }
      ends.append(ids.count)
    }
    ends.append(full.count)
    return (full, ends)
  }

  /// The chat template, or the error for a model without a usable one.
  func usableChatTemplate() throws -> ChatTemplate {
    switch chatTemplate {
    case nil: throw ExampleError.noChatTemplate
    case .success(let t)?: return t
    case .failure(let e)?: throw ExampleError.unusableChatTemplate(e.description)
    }
  }
}
