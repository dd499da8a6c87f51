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
    self.init(prompt: prompt, completion: completion, trained: [Bool](repeating: true, count: completion.count))
  }

  /// prompt + completion with loss on the completion tokens `trained` marks (one flag per
  /// completion token): the target of position t is token t + 1 where that token is a marked
  /// completion token, ignored elsewhere. A conversation trained on every assistant turn is
  /// its first turn's prompt + the rest, the user turns in between unmarked.
  public init(prompt: [Int32], completion: [Int32], trained: [Bool]) {
    precondition(trained.count == completion.count, "one trained flag per completion token")
    let all = prompt + completion
    let n = max(all.count - 1, 0)
    tokens = Array(all.prefix(n))
    targets = (0..<n).map { t in t + 1 >= prompt.count && trained[t + 1 - prompt.count] ? all[t + 1] : Self.ignored }
  }

  /// The target value of positions without loss.
  public static let ignored: Int32 = -100

  public var trainedTokenCount: Int { targets.filter { $0 >= 0 }.count }
}
