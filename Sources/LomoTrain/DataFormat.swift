import LomoCore

/// The layout of the records in a JSONL data file.
public enum DataFormat: String, CaseIterable, Sendable, Codable {
  /// The official SuperGLUE files; the task says which (`SuperGLUETask`).
  case superglue
  /// `{"prompt", "completion"}`: loss on the completion and EOS.
  case promptCompletion = "prompt-completion"
  /// `{"prompt", "choices", "label"}`: trains on the gold choice, evaluates by scoring.
  case multipleChoice = "choices"
  /// `{"messages": [{"role", "content"}, ...]}` through the chat template; loss on the last
  /// assistant turn.
  case messages
  /// `{"text"}`: plain language modelling, loss on every token.
  case text
  /// `{"input_ids": [...], "labels": [...]?}`: pre-tokenised; labels -100 are ignored.
  case inputIDs = "input-ids"

  /// Fields a record of this format may carry besides its own: an identifier.
  static let identifierFields: Set<String> = ["id", "idx"]

  /// The format (and SuperGLUE task) that a record's fields name. Checks the distinguishing
  /// fields only; the record is validated in full when it is parsed.
  static func detect(_ f: JSONField) throws -> (DataFormat, SuperGLUETask?) {
    let keys = Set(try f.object().members.map(\.key))
    if keys.contains("messages") { return (.messages, nil) }
    if keys.contains("input_ids") { return (.inputIDs, nil) }
    if keys.contains("choices") { return (.multipleChoice, nil) }
    if keys.contains("completion") { return (.promptCompletion, nil) }
    if keys.contains("qas") { return (.superglue, .record) }
    if keys.isSuperset(of: ["choice1", "choice2", "premise"]) { return (.superglue, .copa) }
    if keys.isSuperset(of: ["word", "sentence1", "sentence2"]) { return (.superglue, .wic) }
    if keys.isSuperset(of: ["text", "target"]) { return (.superglue, .wsc) }
    if keys.isSuperset(of: ["passage", "question"]) { return (.superglue, .boolq) }
    if keys.contains("passage") { return (.superglue, .multirc) }
    if keys.isSuperset(of: ["premise", "hypothesis"]) { throw RecordProblem(.needsTask("RTE and CB")) }
    if keys.contains("text") { return (.text, nil) }
    let shown = keys.sorted().prefix(8).map { Format.excerpt($0, limit: 40) }.joined(separator: ", ")
    throw RecordProblem(.undetectedFormat(
      "cannot tell the format from the fields {\(shown)}; pass --format (\(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")))"))
  }
}

/// The SuperGLUE tasks lomo has templates for (the LOMO paper's set plus CB).
public enum SuperGLUETask: String, CaseIterable, Sendable, Codable {
  case boolq, cb, copa, multirc, record, rte, wic, wsc

  /// Parses a task name, case-insensitively.
  public init?(name: String) {
    self.init(rawValue: name.lowercased())
  }
}
