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
