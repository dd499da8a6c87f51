import LomoCore
import LomoKernels

/// The untied LM head's and embedding's gradients handed over in row slices
/// (`RowSlicedGradient`), so that backward never holds a [V, C] f32 gradient: one slice of
/// `vocabularySliceRows` rows instead (by default `RowSlicedGradient.defaultSliceRows`;
/// llama-7b: 2048 × 4096 floats, 32 MiB, against 500 MiB).
///
/// The loss comes first, from a loss-only pass that keeps each row's log-sum-exp; then the
/// head's slices (`LMHeadSlices`: the first production of each slice also adds its part of
/// ∂L/∂hidden, before the updater may change those rows), then the final norm, the layers and
/// finally the embedding's slices (each one the scatter-add of the batch's rows whose token
/// falls in it). Used for one micro-batch, unsharded, untied, when the updater takes slices
/// and the vocabulary is more than one slice.
extension LlamaModel {
  /// Rows of the [V, C] gradients per slice.
  var sliceRows: Int { vocabularySliceRows ?? RowSlicedGradient.defaultSliceRows(columns: config.hiddenSize) }

  func handsOverVocabularyInSlices(_ updater: ParameterUpdater, microBatches: Int) -> Bool {
    !config.tiedEmbeddings && microBatches == 1 && !parameters.isSharded && updater.acceptsRowSlices
      && config.vocabSize > sliceRows
  }

  /// The loss of the batch (summed over the ranks), each row's log-sum-exp into `headLogSumExp`.
  func headLossWithNormalisers(_ s: ForwardState) -> CrossEntropyResult {
    reducedOverRanks(CrossEntropy.forward(
      nll: nil, logSumExp: headLogSumExp.pointer(count: rows), hidden: s.finalNorm.pointer,
      weight: weight(headWeights), targets: s.targets.pointer, rows: rows,
      channels: config.hiddenSize, vocab: config.vocabSize, scratch: crossEntropy))
  }

  /// Hands the LM head's gradient to `updater` in slices (written into `slice`), adding
  /// ∂L/∂(final-normed hidden) into `dHidden` [N, C].
  func handOverHeadInSlices(_ s: ForwardState, dHidden: UnsafeMutablePointer<Float>, slice: AlignedBuffer<Float>,
                            gradScale: Float, to updater: ParameterUpdater) {
    let c = config, head = headWeights
    let kernel = LMHeadSlices(
      hidden: s.finalNorm.pointer, logSumExp: headLogSumExp.pointer(count: rows), targets: s.targets.pointer,
      weight: weight(head), rows: rows, channels: c.hiddenSize, vocab: c.vocabSize, gradScale: gradScale,
      scratch: headSlices)
    let gradient = RowSlicedGradient(rows: c.vocabSize, columns: c.hiddenSize, sliceRows: sliceRows,
                                     buffer: slice.pointer) { _, range, first in
      kernel.gradient(rows: range, into: slice.pointer, accumulateHidden: first)
    }
    updater.update(head, slices: gradient)
    precondition(gradient.isComplete, "\(type(of: updater)) skipped a slice of the LM head's gradient")
    kernel.addHiddenGradient(into: dHidden)
  }

  /// Hands the embedding's gradient to `updater` in slices: the rows of `dOut` [N, C]
  /// (∂L/∂ layer 0's input) scatter-added by token.
  func handOverEmbeddingInSlices(_ s: ForwardState, dOut: UnsafePointer<Float>, slice: AlignedBuffer<Float>,
                                 to updater: ParameterUpdater) {
    let c = config, n = rows
    let gradient = RowSlicedGradient(rows: c.vocabSize, columns: c.hiddenSize, sliceRows: sliceRows,
                                     buffer: slice.pointer) { _, range, _ in
      slice.pointer.update(repeating: 0, count: range.count * c.hiddenSize)
      Embedding.backward(dTable: slice.pointer, dOut: dOut, tokens: s.tokens.pointer, rows: n,
                         channels: c.hiddenSize, tableRows: range)
    }
    updater.update(parameters.embedding, slices: gradient)
    precondition(gradient.isComplete, "\(type(of: updater)) skipped a slice of the embedding's gradient")
  }
}
