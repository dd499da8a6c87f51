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
/// - A conversation (`{"messages"}`) trains on the assistant turns `trainOn` names, each as the
///   chat template renders it (`ExampleBuilder+Chat.swift`).
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
  /// The assistant turns of conversations that are trained on.
  public var trainOn: AssistantTurns = .last
  /// Conversations with several assistant turns of which only the last was trained on
  /// (`trainOn` is `.last`), for the note that says so.
  public private(set) var conversationsWithUntrainedTurns = 0
  /// Whether `evaluationItem` renders a choice record through the chat template: its prompt
  /// as one user turn plus the generation prompt, each choice as that turn's assistant reply.
  public var choicesUseChatTemplate = false

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
      let chat = try chatIDs(messages, turns: trainOn)
      if trainOn == .last, messages.filter({ $0.role == "assistant" }).count > 1 {
        conversationsWithUntrainedTurns += 1
      }
      return fit(prompt: chat.prompt, completion: chat.completion, trained: chat.trained)
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

  /// The scoring item of a choice record; nil for other records. With
  /// `choicesUseChatTemplate`, the prompt is the chat template's rendering of one user turn
  /// plus the generation prompt and each candidate is what `chatIDs` would train on as that
  /// turn's reply (the choice, the end-of-turn marker, EOS); it throws `chatIDs`' errors.
  public mutating func evaluationItem(_ record: DatasetRecord) throws -> MultipleChoiceItem? {
    guard case .choice(let c) = record else { return nil }
    var prompt: [Int32]
    let candidates: [[Int32]]
    if choicesUseChatTemplate {
      let user = ChatMessage(role: "user", content: c.prompt)
      let replies = try c.choices.map { try chatIDs([user, ChatMessage(role: "assistant", content: $0)], turns: .last) }
      // The prompt's rendering does not depend on the reply, so every reply has the same.
      prompt = replies.first?.prompt ?? []
      candidates = replies.map(\.completion)
    } else {
      prompt = promptIDs(c.prompt)
      candidates = c.choices.map(answerIDs)
    }
    let longest = candidates.map(\.count).max() ?? 0
    // Scored sequence: prompt + candidate without its last token.
    let room = max(maxSequenceLength + 1 - longest, min(prompt.count, 1))
    if prompt.count > room {
      prompt = keepEnd(prompt, room)
      truncatedCount += 1
    }
    return MultipleChoiceItem(prompt: prompt, candidates: candidates, label: c.label, group: c.group)
  }

  /// prompt + completion cut to at most `maxSequenceLength + 1` ids (the example has one fewer
  /// positions), dropping prompt tokens first. `trained` marks the completion tokens with a
  /// loss (nil: all of them); a completion longer than the limit loses its start, so the
  /// trained tokens at its end are kept.
  mutating func fit(prompt: [Int32], completion: [Int32], trained: [Bool]? = nil) -> TokenizedExample {
    let trained = trained ?? [Bool](repeating: true, count: completion.count)
    let limit = maxSequenceLength + 1
    guard prompt.count + completion.count > limit else {
      return TokenizedExample(prompt: prompt, completion: completion, trained: trained)
    }
    truncatedCount += 1
    if completion.count < limit {
      return TokenizedExample(prompt: keepEnd(prompt, limit - completion.count), completion: completion, trained: trained)
    }
    // The answer alone is too long: keep its end, after the prompt's first token (BOS if any).
    guard let first = prompt.first else {
      let kept = keptPositions(completion, limit)
      return TokenizedExample(prompt: [], completion: kept.map { completion[$0] }, trained: kept.map { trained[$0] })
    }
    return TokenizedExample(prompt: [first], completion: Array(completion.suffix(limit - 1)),
                            trained: Array(trained.suffix(limit - 1)))
  }


  /// The last `count` ids of `ids`, keeping a leading BOS in place of the first of them.
  func keepEnd(_ ids: [Int32], _ count: Int) -> [Int32] {
    keptPositions(ids, count).map { ids[$0] }
  }

  /// The indices of `ids` that `keepEnd(ids, count)` keeps, in order.
  func keptPositions(_ ids: [Int32], _ count: Int) -> [Int] {
    guard ids.count > count else { return Array(ids.indices) }
    if count >= 2, let bos = encoder.bosID, ids.first == bos {
      return [0] + Array(ids.count - count + 1..<ids.count)
    }
    return Array(ids.count - count..<ids.count)
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
  /// `messages[index]`, an assistant turn, is rendered differently once later turns follow
  /// (templates that drop past reasoning do), so the turns trained on cannot be located.
  case chatTemplateRewritesTurn(index: Int)
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
    case .chatTemplateRewritesTurn(let i):
      "the chat template renders the conversation up to messages[\(i)] differently once later turns follow (it rewrites earlier turns), so the assistant turns to train on cannot be located; train on the last turn only (--train-on last) or give each assistant turn its own line"
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
      let found: MultipleChoiceItem?
      do { found = try builder.evaluationItem(record) }
      catch let e as ExampleError { throw DatasetError(file: file, line: line, .invalidField(e.field, e.description)) }
      guard let item = found else {
        throw DatasetError(file: file, line: line, .undetectedFormat(
          "the \(format.rawValue) format has no answer choices to score; use a SuperGLUE --task or {\"prompt\", \"choices\", \"label\"}"))
      }
      return item
    }
  }
}
