/// A padded batch in the layout `LlamaModel` takes: [batch, time] row-major, right-padded,
/// padding positions with token `padToken` and ignored targets.
public struct Batch: Sendable, Equatable {
  public var tokens: [Int32]
  public var targets: [Int32]
  public var batch: Int
  public var time: Int

  /// The examples in order, then (when `rowMultiple` does not divide their count) rows of
  /// padding only, which train on nothing, up to the next multiple of `rowMultiple`: a short
  /// last batch of an epoch still splits into whole micro-batches. No examples (a rank's empty
  /// slice of a short last step) make `rowMultiple` rows of one padding position.
  public init(_ examples: [TokenizedExample], padToken: Int32, rowMultiple: Int = 1) {
    precondition(rowMultiple >= 1, "rows in multiples of \(rowMultiple)")
    batch = max(1, (examples.count + rowMultiple - 1) / rowMultiple) * rowMultiple
    time = examples.map(\.tokens.count).max() ?? 1
    tokens = []
    targets = []
    tokens.reserveCapacity(batch * time)
    targets.reserveCapacity(batch * time)
    for e in examples {
      let pad = time - e.tokens.count
      tokens += e.tokens + [Int32](repeating: padToken, count: pad)
      targets += e.targets + [Int32](repeating: TokenizedExample.ignored, count: pad)
    }
    let emptyRows = (batch - examples.count) * time
    tokens += [Int32](repeating: padToken, count: emptyRows)
    targets += [Int32](repeating: TokenizedExample.ignored, count: emptyRows)
  }

  public var trainedTokenCount: Int { targets.filter { $0 >= 0 }.count }
}
