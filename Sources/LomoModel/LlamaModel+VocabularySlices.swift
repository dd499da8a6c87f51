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
/// falls in it). With K micro-batches the head runs once over all K·N rows (each micro-batch's
/// final-normed rows kept in `headHidden`). Used unsharded, untied, when the updater takes
/// slices and the vocabulary is more than one slice.
extension LlamaModel {
  /// Rows of the [V, C] gradients per slice.
  var sliceRows: Int { vocabularySliceRows ?? RowSlicedGradient.defaultSliceRows(columns: config.hiddenSize) }

  func handsOverVocabularyInSlices(_ updater: ParameterUpdater) -> Bool {
    !config.tiedEmbeddings && !parameters.isSharded && updater.acceptsRowSlices && config.vocabSize > sliceRows
  }

  /// The final-normed hidden rows of every micro-batch, [K·N, C]: forward's `finalNorm` for one
  /// micro-batch, else each micro-batch's recomputed into `headHidden`.
  func headHiddenRows(_ s: ForwardState) -> UnsafePointer<Float> {
    guard s.microBatches > 1 else { return UnsafePointer(s.finalNorm.pointer) }
    let n = rows * config.hiddenSize, all = headHidden.pointer(count: s.microBatches * n)
    for k in 0..<s.microBatches {
      finalNormForward(s, input: s.residual.read(config.layers, microBatch: k))
      (all + k * n).update(from: s.finalNorm.pointer, count: n)
    }
    return UnsafePointer(all)
  }

  /// The loss of the batch (summed over the ranks) from `hidden` [K·N, C], each row's
  /// log-sum-exp into `headLogSumExp`.
  func headLossWithNormalisers(_ s: ForwardState, hidden: UnsafePointer<Float>) -> CrossEntropyResult {
    let n = s.microBatches * rows
    return reducedOverRanks(CrossEntropy.forward(
      nll: nil, logSumExp: headLogSumExp.pointer(count: n), hidden: hidden,
      weight: weight(headWeights, rows: n), targets: s.targets.pointer, rows: n,
      channels: config.hiddenSize, vocab: config.vocabSize, scratch: crossEntropy))
  }

  /// Hands the LM head's gradient over `hidden` [K·N, C] to `updater` in slices (written into
  /// `slice`); returns ∂L/∂hidden [K·N, C] (in `headDHidden`).
  func handOverHeadInSlices(_ s: ForwardState, hidden: UnsafePointer<Float>, slice: AlignedBuffer<Float>,
                            gradScale: Float, to updater: ParameterUpdater) -> UnsafePointer<Float> {
    let c = config, head = headWeights, n = s.microBatches * rows
    let kernel = LMHeadSlices(
      hidden: hidden, logSumExp: headLogSumExp.pointer(count: n), targets: s.targets.pointer,
      weight: weight(head, rows: n), rows: n, channels: c.hiddenSize, vocab: c.vocabSize, gradScale: gradScale,
      scratch: headSlices)
    let gradient = RowSlicedGradient(rows: c.vocabSize, columns: c.hiddenSize, sliceRows: sliceRows,
                                     buffer: slice.pointer) { _, range, first in
      kernel.gradient(rows: range, into: slice.pointer, accumulateHidden: first)
    }
    updater.update(head, slices: gradient)
    precondition(gradient.isComplete, "\(type(of: updater)) skipped a slice of the LM head's gradient")
    let dHidden = headDHidden.pointer(count: n * c.hiddenSize)
    dHidden.update(repeating: 0, count: n * c.hiddenSize)
    kernel.addHiddenGradient(into: dHidden)
    return UnsafePointer(dHidden)
  }

  /// The final norm's backward for every micro-batch from ∂L/∂(its output) `dHidden`
  /// [K·N, C] (recomputing each micro-batch's norm statistics when there are several), its
  /// gradient into a new group of `sum`.
  func finalNormBackward(_ s: ForwardState, dHidden: UnsafePointer<Float>, scratch b: BackwardScratch,
                         sum: GradientSum) {
    let n = rows * config.hiddenSize
    sum.begin()
    for k in 0..<s.microBatches {
      if s.microBatches > 1 { finalNormForward(s, input: s.residual.read(config.layers, microBatch: k)) }
      b.dNorm.pointer.update(from: dHidden + k * n, count: n)
      finalNormBackward(s, microBatch: k, scratch: b, sum: sum)
    }
  }

  /// Hands the embedding's gradient to `updater` in slices: the rows of `dOut` [K·N, C]
  /// (∂L/∂ layer 0's input) scatter-added by token.
  func handOverEmbeddingInSlices(_ s: ForwardState, dOut: UnsafePointer<Float>, slice: AlignedBuffer<Float>,
                                 to updater: ParameterUpdater) {
    let c = config, n = s.microBatches * rows
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
