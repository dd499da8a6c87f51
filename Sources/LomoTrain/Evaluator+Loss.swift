import LomoModel

extension Evaluator {
  /// The mean cross-entropy over every trained token of `examples` (a mean over tokens, not a
  /// mean of batch means), run in right-padded batches of `options.batchSize` in the given
  /// order. Examples with no trained token count for nothing; with none at all the loss is 0.
  public func meanLoss(_ examples: [TokenizedExample]) -> (loss: Double, tokens: Int) {
    var total = 0.0, tokens = 0
    for start in stride(from: 0, to: examples.count, by: options.batchSize) {
      let batch = Batch(Array(examples[start..<min(start + options.batchSize, examples.count)]),
                        padToken: options.padToken)
      let r = model.loss(tokens: batch.tokens, targets: batch.targets, batch: batch.batch, time: batch.time)
      total += Double(r.meanLoss) * Double(r.tokenCount)
      tokens += r.tokenCount
    }
    return (tokens > 0 ? total / Double(tokens) : 0, tokens)
  }
}
