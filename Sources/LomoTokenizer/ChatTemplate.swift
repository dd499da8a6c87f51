/// One chat turn.
public struct ChatMessage: Sendable, Equatable, Codable {
  public var role: String
  public var content: String
  public init(role: String, content: String) {
    self.role = role
    self.content = content
  }
}

/// A Jinja-free formatter for the chat templates lomo knows, chosen from the template text.
public enum ChatTemplate: Sendable, Equatable {
  /// `<|im_start|>role\ncontent<|im_end|>\n` per message; generation prompt `<|im_start|>assistant\n`.
  /// `defaultSystemPrompt` is inserted when the first message is not a system message (SmolLM2).
  case chatML(defaultSystemPrompt: String?)
  /// LLaMA 2: `<s>[INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST] answer </s>`.
  case llama2(bos: String, eos: String)
  /// Gemma: `<start_of_turn>user\ncontent<end_of_turn>\n`, assistant as `model`, system folded
  /// into the first user turn; generation prompt `<start_of_turn>model\n`. `bos` starts the text.
  case gemma(bos: String)

  /// Detects the format from a Jinja chat template (GGUF `tokenizer.chat_template`); nil if unknown.
  public init?(template: String, bosToken: String = "<s>", eosToken: String = "</s>") {
    if template.contains("<|im_start|>") {
      self = .chatML(defaultSystemPrompt: ChatTemplate.defaultSystemPrompt(in: template))
    } else if template.contains("[INST]") {
      self = .llama2(bos: bosToken, eos: eosToken)
    } else if template.contains("<start_of_turn>") {
      self = .gemma(bos: bosToken)
    } else {
      return nil
    }
  }

  /// The system text a ChatML template writes when the conversation has none: the literal
  /// `<|im_start|>system\n...<|im_end|>` under a `!= 'system'` test.
  static func defaultSystemPrompt(in template: String) -> String? {
    guard template.contains("!= 'system'") || template.contains("!= \"system\"") else { return nil }
    let open = "<|im_start|>system\n"
    guard let a = template.range(of: open), let b = template.range(of: "<|im_end|>", range: a.upperBound..<template.endIndex)
    else { return nil }
    let text = template[a.upperBound..<b.lowerBound]
    // A literal, not an expression such as `' + message['content'] + '`.
    guard !text.contains("{") && !text.contains("'") && !text.contains("\"") else { return nil }
    return String(text)
  }

  /// The special token that ends an assistant turn (generation stops there), or nil where the
  /// turn ends with the tokenizer's end-of-sequence token (LLaMA 2).
  public var endOfTurn: String? {
    switch self {
    case .chatML: "<|im_end|>"
    case .gemma: "<end_of_turn>"
    case .llama2: nil
    }
  }

  public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
    var out = ""
    switch self {
    case .chatML(let sys):
      if let sys, let first = messages.first, first.role != "system" {
        out += "<|im_start|>system\n\(sys)<|im_end|>\n"
      }
      for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
      if addGenerationPrompt { out += "<|im_start|>assistant\n" }
    case .llama2(let bos, let eos):
      let (sys, msgs) = ChatTemplate.splitSystem(messages)
      for (k, m) in msgs.enumerated() {
        if m.role == "user" {
          out += bos + "[INST] "
          if k == 0, let sys { out += "<<SYS>>\n\(sys)\n<</SYS>>\n\n" }
          out += ChatTemplate.trim(m.content) + " [/INST]"
        } else {
          out += " " + ChatTemplate.trim(m.content) + " " + eos
        }
      }
    case .gemma(let bos):
      out += bos
      let (sys, msgs) = ChatTemplate.splitSystem(messages)
      for (k, m) in msgs.enumerated() {
        let role = m.role == "assistant" ? "model" : m.role
        out += "<start_of_turn>\(role)\n"
        if k == 0, let sys { out += sys + "\n\n" }
        out += ChatTemplate.trim(m.content) + "<end_of_turn>\n"
      }
      if addGenerationPrompt { out += "<start_of_turn>model\n" }
    }
    return out
  }

  /// A leading system message's text, and the messages after it (templates that fold the system
  /// prompt into the first user turn).
  static func splitSystem(_ messages: [ChatMessage]) -> (system: String?, rest: ArraySlice<ChatMessage>) {
    guard let f = messages.first, f.role == "system" else { return (nil, messages[...]) }
    return (f.content, messages.dropFirst())
  }

  /// Jinja's `trim` (Python `str.strip()`): leading and trailing whitespace.
  static func trim(_ s: String) -> String {
    let u = Array(s.unicodeScalars)
    var a = 0
    var b = u.count
    while a < b && u[a].properties.isWhitespace { a += 1 }
    while b > a && u[b - 1].properties.isWhitespace { b -= 1 }
    var v = String.UnicodeScalarView()
    v.append(contentsOf: u[a..<b])
    return String(v)
  }
}
