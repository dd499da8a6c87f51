import LomoCore
import LomoTokenizer

/// One example as text, before tokenisation.
public enum DatasetRecord: Sendable, Equatable {
  /// Loss on `completion` + EOS given `prompt`.
  case completion(prompt: String, completion: String)
  /// A choice task: trains on `choices[label]`, evaluates by scoring every choice.
  case choice(ChoiceRecord)
  /// A conversation rendered by the chat template; loss on the last assistant turn.
  case chat([ChatMessage])
  /// Plain text: loss on every token and EOS.
  case text(String)
  /// Pre-tokenised: `labels[t]` is the label of position t (the Hugging Face convention,
  /// shifted here); nil labels train on every token; -100 is ignored.
  case tokens(inputIDs: [Int32], labels: [Int32]?)
}

/// A multiple-choice example as text: the prompt, each choice's text (without EOS) and the
/// index of the correct one. `group` ties the answer options of one MultiRC question.
public struct ChoiceRecord: Sendable, Equatable {
  public var prompt: String
  public var choices: [String]
  public var label: Int
  public var group: String?

  public init(prompt: String, choices: [String], label: Int, group: String? = nil) {
    self.prompt = prompt
    self.choices = choices
    self.label = label
    self.group = group
  }
}

extension DatasetRecord {
  /// The records of one JSON object in `format` (several for MultiRC and ReCoRD).
  static func parse(_ f: JSONField, format: DataFormat, task: SuperGLUETask?) throws -> [DatasetRecord] {
    let id = DataFormat.identifierFields
    switch format {
    case .superglue:
      guard let task else { throw RecordProblem(.needsTask("files")) }
      return try SuperGLUETemplates.records(f, task: task).map { .choice($0) }
    case .promptCompletion:
      try f.only(id.union(["prompt", "completion"]))
      return [.completion(prompt: try f["prompt"].string(), completion: try f["completion"].string())]
    case .multipleChoice:
      try f.only(id.union(["prompt", "choices", "label"]))
      let choices = try f["choices"].array().map { try $0.string() }
      if choices.count < 2 { throw RecordProblem(.invalidField("choices", "needs at least two choices")) }
      let label = try f["label"].integer()
      guard choices.indices.contains(label) else {
        throw RecordProblem(.invalidField("label", "\(label) is not an index of the \(choices.count) choices"))
      }
      return [.choice(ChoiceRecord(prompt: try f["prompt"].string(), choices: choices, label: label))]
    case .messages:
      try f.only(id.union(["messages"]))
      let messages = try f["messages"].array().map { m -> ChatMessage in
        try m.only(["role", "content"])
        let role = try m["role"].string()
        guard ["system", "user", "assistant"].contains(role) else {
          throw RecordProblem(.invalidField(m["role"].path, "'\(role)' is not system, user or assistant"))
        }
        return ChatMessage(role: role, content: try m["content"].string())
      }
      guard messages.contains(where: { $0.role == "assistant" }) else {
        throw RecordProblem(.invalidField("messages", "no assistant turn to train on"))
      }
      return [.chat(messages)]
    case .text:
      try f.only(id.union(["text"]))
      return [.text(try f["text"].string())]
    case .inputIDs:
      try f.only(id.union(["input_ids", "labels", "attention_mask"]))
      let ids = try Self.ids(f["input_ids"].array(), allowIgnored: false)
      if ids.count < 2 { throw RecordProblem(.invalidField("input_ids", "needs at least two tokens")) }
      var labels: [Int32]? = nil
      if f["labels"].isPresent {
        let l = try Self.ids(f["labels"].array(), allowIgnored: true)
        guard l.count == ids.count else {
          throw RecordProblem(.invalidField("labels", "has \(l.count) entries for \(ids.count) input_ids"))
        }
        labels = l
      }
      return [.tokens(inputIDs: ids, labels: labels)]
    }
  }

  static func ids(_ values: [JSONField], allowIgnored: Bool) throws -> [Int32] {
    try values.map { v in
      let n = try v.integer()
      guard (0...Int(Int32.max)).contains(n) || (allowIgnored && n == Int(TokenizedExample.ignored)) else {
        throw RecordProblem(.invalidField(v.path, "\(n) is not a token id\(allowIgnored ? " or -100" : "")"))
      }
      return Int32(n)
    }
  }
}
