/// Why `LlamaModel.generate` cannot continue a prompt; each case says what to change.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
  case emptyPrompt
  /// The prompt leaves no position to generate into: it needs fewer than `context` tokens.
  case promptTooLong(tokens: Int, context: Int)
  /// A prompt token id the model does not have (`vocabularySize` ids).
  case tokenOutOfRange(position: Int, token: Int32, vocabularySize: Int)
  /// The logits after `position` tokens hold inf or NaN: the weights are not usable.
  case nonFiniteLogits(position: Int)

  public var description: String {
    switch self {
    case .emptyPrompt: "the prompt encodes to no tokens"
    case .promptTooLong(let n, let c):
      "the prompt is \(n) tokens but the model's context is \(c): nothing could be generated; "
        + "shorten the prompt to fewer than \(c) tokens"
    case .tokenOutOfRange(let i, let t, let v):
      "prompt token \(i) is id \(t), beyond the model's vocabulary of \(v)"
    case .nonFiniteLogits(let i):
      "the model's output after \(i) tokens is not finite (inf or NaN): its weights are broken "
        + "(a diverged training run?); use another model"
    }
  }
}
