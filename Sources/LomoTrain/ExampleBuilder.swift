import LomoTokenizer

/// What `ExampleBuilder` needs of a tokenizer; `Tokenizer` has it, tests use a stand-in.
public protocol TextEncoding {
  func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32]
  var eosID: Int32? { get }
  var bosID: Int32? { get }
}

extension Tokenizer: TextEncoding {}

/// Tokenises records into training examples and scoring items.
///
/// - Prompts are encoded with the tokenizer's special tokens (BOS where it adds one), answers
///   without, and EOS is appended to every answer: the loss is on answer + EOS only.
/// - Record text is encoded with `parseSpecial: false`, so data cannot inject control tokens;
///   chat-template output is encoded with `parseSpecial: true` and without the tokenizer's own
///   BOS/EOS (the template writes the special tokens it wants, as transformers tokenizes it).
/// - A sequence longer than `maxSequenceLength` tokens is truncated from the left, keeping the
///   answer and its end (and a leading BOS); `truncatedCount` counts them.
public struct ExampleBuilder {
  /// The sequence length commands use unless told otherwise.
  public static let defaultMaxSequenceLength = 512

  public let encoder: any TextEncoding
  public let maxSequenceLength: Int
  /// The model's chat template, or why it cannot be used (thrown only for chat records).
  public let chatTemplate: LoadedChatTemplate?
  /// Token ids must be below this (pre-tokenised records are checked against it).
  public let vocabularySize: Int?
  public private(set) var truncatedCount = 0

  public init(encoder: any TextEncoding, maxSequenceLength: Int, chatTemplate: LoadedChatTemplate? = nil,
              vocabularySize: Int? = nil) {
    precondition(maxSequenceLength >= 2, "max sequence length must be at least 2")
    self.encoder = encoder
    self.maxSequenceLength = maxSequenceLength
    self.chatTemplate = chatTemplate
    self.vocabularySize = vocabularySize
  }

  var eos: [Int32] { encoder.eosID.map { [$0] } ?? [] }

  public func promptIDs(_ text: String) -> [Int32] {
    encoder.encode(text, addSpecial: true, parseSpecial: false)
  }

  /// The answer's tokens followed by EOS.
  public func answerIDs(_ text: String) -> [Int32] {
    encoder.encode(text, addSpecial: false, parseSpecial: false) + eos
  }

  /// The training example of a record (a choice record trains on its gold choice). Every
  /// token and target is checked below `vocabularySize` (a pre-tokenised record's `input_ids`
  /// and `labels` by field and index), and an example with no trained target is refused
  /// (`ExampleError.nothingToTrain`): it could not change a weight, costs a full step's
  /// work, and is almost always a masking mistake in the data.
  public mutating func trainingExample(_ record: DatasetRecord) throws -> TokenizedExample {
    let example = try uncheckedExample(record)
    if let v = vocabularySize,
       let bad = (example.tokens + example.targets).first(where: { Int($0) >= v }) {
      throw ExampleError.encodedOutOfRange(bad, vocabularySize: v)
    }
    guard example.trainedTokenCount > 0 else {
      if case .tokens(_, _?) = record { throw ExampleError.nothingToTrain(field: "labels") }
      throw ExampleError.nothingToTrain(field: nil)
    }
    return example
  }

  /// The example of a record before the vocabulary and trained-token checks.
  mutating func uncheckedExample(_ record: DatasetRecord) throws -> TokenizedExample {
    switch record {
    case .completion(let prompt, let completion):
      return fit(prompt: promptIDs(prompt), completion: answerIDs(completion))
    case .choice(let c):
      return fit(prompt: promptIDs(c.prompt), completion: answerIDs(c.choices[c.label]))
    case .text(let text):
      return fit(prompt: [], completion: encoder.encode(text, addSpecial: true, parseSpecial: false) + eos)
    case .chat(let messages):
      let (prompt, completion) = try chatIDs(messages)
      return fit(prompt: prompt, completion: completion)
    case .tokens(let ids, let labels):
      if let v = vocabularySize {
        for (field, values) in [("input_ids", ids), ("labels", labels ?? [])] {
          if let i = values.firstIndex(where: { Int($0) >= v }) {
            throw ExampleError.tokenOutOfRange(field: field, index: i, token: values[i], vocabularySize: v)
          }
        }
      }
      var ids = ids, labels = labels ?? ids
      if ids.count > maxSequenceLength + 1 {
        ids = Array(ids.suffix(maxSequenceLength + 1))
        labels = Array(labels.suffix(maxSequenceLength + 1))
        truncatedCount += 1
      }
      return TokenizedExample(tokens: Array(ids.dropLast()), targets: Array(labels.dropFirst()))
    }
  }

  /// The scoring item of a choice record; nil for other records.
  public mutating func evaluationItem(_ record: DatasetRecord) -> MultipleChoiceItem? {
    guard case .choice(let c) = record else { return nil }
    var prompt = promptIDs(c.prompt)
    let candidates = c.choices.map(answerIDs)
    let longest = candidates.map(\.count).max() ?? 0
    // Scored sequence: prompt + candidate without its last token.
    let room = max(maxSequenceLength + 1 - longest, min(prompt.count, 1))
    if prompt.count > room {
      prompt = keepEnd(prompt, room)
      truncatedCount += 1
    }
    return MultipleChoiceItem(prompt: prompt, candidates: candidates, label: c.label, group: c.group)
  }

  /// Prompt and completion ids of a conversation: the completion is the last assistant turn as
  /// the chat template renders it (its end-of-turn marker included), EOS appended when the
  /// template does not end the turn with it.
  func chatIDs(_ messages: [ChatMessage]) throws -> ([Int32], [Int32]) {
    guard let loaded = chatTemplate else { throw ExampleError.noChatTemplate }
    let template: ChatTemplate
    switch loaded {
    case .success(let t): template = t
    case .failure(let e): throw ExampleError.unusableChatTemplate(e.description)
    }
    guard let last = messages.lastIndex(where: { $0.role == "assistant" }) else { throw ExampleError.noAssistantTurn }
    let promptText: String, fullText: String
    do {
      promptText = try template.render(Array(messages[..<last]), addGenerationPrompt: true)
      fullText = try template.render(Array(messages[...last]), addGenerationPrompt: false)
    } catch {
      throw ExampleError.chatTemplateFailed(error.description)
    }
    let full = encoder.encode(fullText, addSpecial: false, parseSpecial: true)
    let prompt = encoder.encode(promptText, addSpecial: false, parseSpecial: true)
    var completion: [Int32]
    if full.starts(with: prompt) {
      completion = Array(full[prompt.count...])
    } else if fullText.hasPrefix(promptText) {
      completion = encoder.encode(String(fullText.dropFirst(promptText.count)), addSpecial: false, parseSpecial: true)
    } else {
      throw ExampleError.chatTemplateMismatch
    }
    if let e = encoder.eosID, !completion.contains(e) { completion.append(e) }
    return (prompt, completion)
  }

  /// prompt + completion cut to at most `maxSequenceLength + 1` ids (the example has one fewer
  /// positions), dropping prompt tokens first.
  mutating func fit(prompt: [Int32], completion: [Int32]) -> TokenizedExample {
    let limit = maxSequenceLength + 1
    guard prompt.count + completion.count > limit else {
      return TokenizedExample(prompt: prompt, completion: completion)
    }
    truncatedCount += 1
    if completion.count < limit {
      return TokenizedExample(prompt: keepEnd(prompt, limit - completion.count), completion: completion)
    }
    // The answer alone is too long: keep its end, after the prompt's first token (BOS if any).
    guard let first = prompt.first else {
      return TokenizedExample(prompt: [], completion: keepEnd(completion, limit))
    }
    return TokenizedExample(prompt: [first], completion: Array(completion.suffix(limit - 1)))
  }

  /// The last `count` ids of `ids`, keeping a leading BOS in place of the first of them.
  func keepEnd(_ ids: [Int32], _ count: Int) -> [Int32] {
    guard ids.count > count else { return ids }
    if count >= 2, let bos = encoder.bosID, ids.first == bos {
      return [bos] + ids.suffix(count - 1)
    }
    return Array(ids.suffix(count))
  }
}

public enum ExampleError: Error, Equatable, CustomStringConvertible {
  case noChatTemplate
  /// The model's chat template could not be loaded (the message names the file and why).
  case unusableChatTemplate(String)
  /// Rendering the conversation failed, e.g. the template's `raise_exception` on roles.
  case chatTemplateFailed(String)
  case noAssistantTurn
  case chatTemplateMismatch
  /// Entry `index` of a pre-tokenised record's `field` (input_ids or labels).
  case tokenOutOfRange(field: String, index: Int, token: Int32, vocabularySize: Int)
  /// The tokenizer produced an id the model does not have.
  case encodedOutOfRange(Int32, vocabularySize: Int)
  /// No position has a loss: `field` is "labels" when a record's labels masked them all.
  case nothingToTrain(field: String?)

  /// The record field a problem is about.
  public var field: String {
    switch self {
    case .tokenOutOfRange(let f, _, _, _): f
    case .nothingToTrain(let f?): f
    default: "record"
    }
  }

  public var description: String {
    switch self {
    case .noChatTemplate: "messages need a chat template and the model has none"
    case .unusableChatTemplate(let why): why
    case .chatTemplateFailed(let why): "the chat template cannot render this conversation: \(why)"
    case .noAssistantTurn: "the conversation has no assistant turn to train on"
    case .chatTemplateMismatch: "the chat template's rendering of the conversation does not start with its rendering of the prompt"
    case .tokenOutOfRange(_, let i, let t, let v):
      "entry \(i) is \(t), not a token id of this model (ids are 0..<\(v)); tokenize the data with this model's tokenizer"
    case .encodedOutOfRange(let t, let v):
      "the tokenizer gave id \(t), beyond the model's vocabulary of \(v): the tokenizer does not match the model"
    case .nothingToTrain("labels"?):
      "every label after the first is -100, so nothing is trained on (labels are shifted: the first is never a target); give some positions their token id, or drop the line"
    case .nothingToTrain:
      "the example has no token to train on (an empty answer, truncated away); give it an answer or drop the line"
    }
  }
}

extension Dataset {
  /// Training examples of every record, with the number that were truncated.
  public func trainingExamples(_ builder: inout ExampleBuilder) throws -> [TokenizedExample] {
    try zip(records, lines).map { record, line in
      do { return try builder.trainingExample(record) }
      catch let e as ExampleError { throw DatasetError(file: file, line: line, .invalidField(e.field, e.description)) }
    }
  }

  /// Scoring items; throws when the records are not choices.
  public func evaluationItems(_ builder: inout ExampleBuilder) throws -> [MultipleChoiceItem] {
    try zip(records, lines).map { record, line in
      guard let item = builder.evaluationItem(record) else {
        throw DatasetError(file: file, line: line, .undetectedFormat(
          "the \(format.rawValue) format has no answer choices to score; use a SuperGLUE --task or {\"prompt\", \"choices\", \"label\"}"))
      }
      return item
    }
  }
}
