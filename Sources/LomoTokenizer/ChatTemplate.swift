import Foundation
import LomoCore

/// One chat turn.
public struct ChatMessage: Sendable, Equatable, Codable {
  public var role: String
  public var content: String
  public init(role: String, content: String) {
    self.role = role
    self.content = content
  }
}

/// A model's Jinja chat template, rendered as transformers' `apply_chat_template` renders it:
/// the template sees `messages` (dicts with `role` and `content`), `bos_token`, `eos_token`,
/// `add_generation_prompt`, and `tools` and `documents` set to none.
public struct ChatTemplate: Sendable {
  public let source: String
  public let bosToken: String
  public let eosToken: String
  let template: JinjaTemplate

  /// The text that ends an assistant turn, found by rendering a conversation whose assistant
  /// turn is a sentinel and reading what the template writes right after it: a `<…>` marker,
  /// else the text up to the next whitespace. Nil when that is the EOS token, when nothing
  /// follows, or when the template does not render such a conversation.
  public let endOfTurn: String?

  /// Parses `template`; a template outside the supported Jinja subset throws here.
  public init(template: String, bosToken: String, eosToken: String) throws(JinjaError) {
    source = template
    self.bosToken = bosToken
    self.eosToken = eosToken
    self.template = try JinjaTemplate(template)
    endOfTurn = ChatTemplate.endOfTurn(self.template, bosToken: bosToken, eosToken: eosToken)
  }

  /// The text of `messages`; with `addGenerationPrompt`, followed by the opening of an assistant
  /// turn. `now` is the date `strftime_now` reports (Llama 3.1/3.2 templates print it).
  /// A template's `raise_exception` (roles that do not alternate, an unsupported role) is a
  /// `JinjaError` of kind `.raised` carrying its message.
  public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, now: Date = Date()) throws(JinjaError) -> String {
    try template.render(
      ChatTemplate.context(messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken),
      now: now)
  }

  static func context(_ messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String, eosToken: String) -> [String: JSONValue] {
    [
      "messages": .array(messages.map { .object(JSONObject([("role", .string($0.role)), ("content", .string($0.content))])) }),
      "add_generation_prompt": .bool(addGenerationPrompt),
      "bos_token": .string(bosToken),
      "eos_token": .string(eosToken),
      "tools": .null,
      "documents": .null,
    ]
  }

  static func endOfTurn(_ template: JinjaTemplate, bosToken: String, eosToken: String) -> String? {
    let sentinel = "LOMO-END-OF-TURN-PROBE"
    let messages = [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: sentinel)]
    let context = ChatTemplate.context(messages, addGenerationPrompt: false, bosToken: bosToken, eosToken: eosToken)
    guard let text = try? template.render(context), let at = text.range(of: sentinel, options: .backwards) else { return nil }
    let after = text[at.upperBound...].drop { $0.isWhitespace }
    let marker: Substring
    if after.first == "<", let close = after.firstIndex(of: ">") {
      marker = after[...close]
    } else {
      marker = after.prefix { !$0.isWhitespace }
    }
    return marker.isEmpty || marker == eosToken ? nil : String(marker)
  }
}
