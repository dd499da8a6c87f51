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
