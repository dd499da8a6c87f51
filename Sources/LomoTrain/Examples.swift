/// A tokenized training sequence. `targets[t]` is the token the model should predict after
/// `tokens[t]` (i.e. `tokens[t + 1]` of the full text), or a negative value where no loss is
/// taken (prompt positions, padding): the convention of `LlamaModel.forward`.
public struct TokenizedExample: Sendable, Equatable {
  public var tokens: [Int32]
  public var targets: [Int32]

  public init(tokens: [Int32], targets: [Int32]) {
    precondition(tokens.count == targets.count, "tokens and targets differ in length")
    self.tokens = tokens
    self.targets = targets
  }

  /// prompt + completion with loss on the completion only: targets are the next tokens where
  /// the next token belongs to the completion, ignored elsewhere.
  public init(prompt: [Int32], completion: [Int32]) {
    let all = prompt + completion
    let n = max(all.count - 1, 0)
    tokens = Array(all.prefix(n))
    targets = (0..<n).map { t in t + 1 >= prompt.count ? all[t + 1] : Self.ignored }
  }

  /// The target value of positions without loss.
  public static let ignored: Int32 = -100

  public var trainedTokenCount: Int { targets.filter { $0 >= 0 }.count }
}

/// One evaluation item scored by likelihood: the candidate with the lowest summed negative
/// log-likelihood of its tokens given `prompt` wins (the LOMO paper's rule).
public struct MultipleChoiceItem: Sendable, Equatable {
  public var prompt: [Int32]
  /// Each candidate's continuation tokens (answer + EOS).
  public var candidates: [[Int32]]
  /// Index of the correct candidate.
  public var label: Int
  /// Items of one group (a MultiRC question) are scored together by F1a; nil elsewhere.
  public var group: String?

  public init(prompt: [Int32], candidates: [[Int32]], label: Int, group: String? = nil) {
    self.prompt = prompt
    self.candidates = candidates
    self.label = label
    self.group = group
  }
}

/// A padded batch in the layout `LlamaModel` takes: [batch, time] row-major, right-padded,
/// padding positions with token `padToken` and ignored targets.
public struct Batch: Sendable, Equatable {
  public var tokens: [Int32]
  public var targets: [Int32]
  public var batch: Int
  public var time: Int

  public init(_ examples: [TokenizedExample], padToken: Int32) {
    precondition(!examples.isEmpty, "empty batch")
    batch = examples.count
    time = examples.map(\.tokens.count).max()!
    tokens = []
    targets = []
    tokens.reserveCapacity(batch * time)
    targets.reserveCapacity(batch * time)
    for e in examples {
      let pad = time - e.tokens.count
      tokens += e.tokens + [Int32](repeating: padToken, count: pad)
      targets += e.targets + [Int32](repeating: TokenizedExample.ignored, count: pad)
    }
  }

  public var trainedTokenCount: Int { targets.filter { $0 >= 0 }.count }
}
