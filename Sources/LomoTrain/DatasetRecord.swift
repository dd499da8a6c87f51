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
  static func parse(_ f: JSONFields, format: DataFormat, task: SuperGLUETask?) throws -> [DatasetRecord] {
    let id = DataFormat.identifierFields
    switch format {
    case .superglue:
      guard let task else { throw RecordProblem(.needsTask("files")) }
      return try SuperGLUETemplates.records(f, task: task).map { .choice($0) }
    case .promptCompletion:
      try f.only(id.union(["prompt", "completion"]))
      return [.completion(prompt: try f.string("prompt"), completion: try f.string("completion"))]
    case .multipleChoice:
      try f.only(id.union(["prompt", "choices", "label"]))
      let choices = try f.array("choices").enumerated().map { i, v in
        guard case .string(let s) = v else {
          throw RecordProblem(.invalidField("choices[\(i)]", "expected a string, found \(v.typeName)"))
        }
        return s
      }
      if choices.count < 2 { throw RecordProblem(.invalidField("choices", "needs at least two choices")) }
      let label = try f.int("label")
      guard choices.indices.contains(label) else {
        throw RecordProblem(.invalidField("label", "\(label) is not an index of the \(choices.count) choices"))
      }
      return [.choice(ChoiceRecord(prompt: try f.string("prompt"), choices: choices, label: label))]
    case .messages:
      try f.only(id.union(["messages"]))
      let messages = try f.array("messages").enumerated().map { i, v -> ChatMessage in
        let m = try JSONFields(v, path: "messages[\(i)]")
        try m.only(["role", "content"])
        let role = try m.string("role")
        guard ["system", "user", "assistant"].contains(role) else {
          throw RecordProblem(.invalidField(m.name("role"), "'\(role)' is not system, user or assistant"))
        }
        return ChatMessage(role: role, content: try m.string("content"))
      }
      guard messages.contains(where: { $0.role == "assistant" }) else {
        throw RecordProblem(.invalidField("messages", "no assistant turn to train on"))
      }
      return [.chat(messages)]
    case .text:
      try f.only(id.union(["text"]))
      return [.text(try f.string("text"))]
    case .inputIDs:
      try f.only(id.union(["input_ids", "labels", "attention_mask"]))
      let ids = try Self.ids(f.array("input_ids"), name: "input_ids", allowIgnored: false)
      if ids.count < 2 { throw RecordProblem(.invalidField("input_ids", "needs at least two tokens")) }
      var labels: [Int32]? = nil
      if f.has("labels") {
        let l = try Self.ids(f.array("labels"), name: "labels", allowIgnored: true)
        guard l.count == ids.count else {
          throw RecordProblem(.invalidField("labels", "has \(l.count) entries for \(ids.count) input_ids"))
        }
        labels = l
      }
      return [.tokens(inputIDs: ids, labels: labels)]
    }
  }

  static func ids(_ values: [JSONValue], name: String, allowIgnored: Bool) throws -> [Int32] {
    try values.enumerated().map { i, v in
      let n = try JSONFields.int(v, name: "\(name)[\(i)]")
      guard (0...Int(Int32.max)).contains(n) || (allowIgnored && n == Int(TokenizedExample.ignored)) else {
        throw RecordProblem(.invalidField("\(name)[\(i)]", "\(n) is not a token id\(allowIgnored ? " or -100" : "")"))
      }
      return Int32(n)
    }
  }
}
