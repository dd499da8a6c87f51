import LomoCore

/// The gradients of one group of tensors (one block's nine, or the final norm's) summed over
/// the micro-batches of a step, for gradient accumulation: backward writes micro-batch 0's
/// gradient of each tensor into its slot and adds every later micro-batch's to it, then hands
/// the sums over once. One f32 buffer sized for the largest group, reused by every group.
final class GradientSum {
  private let buffer: AlignedBuffer<Float>
  /// The current group's tensors in the order their slots were first asked for, and where
  /// each slot starts in `buffer`.
  private var slots: [(tensor: ParameterTensor, offset: Int)] = []
  private var used = 0

  /// - Parameter capacity: floats of the largest group (the sum of its tensors' counts).
  init(capacity: Int, ledger: MemoryLedger) {
    buffer = AlignedBuffer(count: capacity, category: .gradients, ledger: ledger)
  }

  var capacity: Int { buffer.count }

  /// Starts a new group, forgetting the previous group's slots.
  func begin() {
    slots.removeAll(keepingCapacity: true)
    used = 0
  }

  /// The slot of `tensor` in the current group, [tensor.count] f32, taken from the buffer in
  /// order the first time it is asked for.
  func slot(for tensor: ParameterTensor) -> UnsafeMutablePointer<Float> {
    if let s = slots.first(where: { $0.tensor === tensor }) { return buffer.pointer + s.offset }
    precondition(used + tensor.count <= buffer.count, "gradient group exceeds \(buffer.count) floats")
    slots.append((tensor, used))
    used += tensor.count
    return buffer.pointer + (used - tensor.count)
  }

  /// Hands every summed gradient of the group to `updater`, in the order the slots were
  /// first asked for (the order backward finishes the tensors without accumulation).
  func handOver(to updater: ParameterUpdater) {
    for s in slots { updater.update(s.tensor, gradient: buffer.pointer + s.offset) }
  }
}

/// Where backward puts the gradient of each tensor it has finished for one micro-batch.
enum GradientSink {
  /// Into the shared buffer, handed to the updater at once (one micro-batch per step).
  case direct(AlignedBuffer<Float>, ParameterUpdater)
  /// Into the tensor's slot of the sum: written by the first micro-batch, added to by the
  /// others; handed over after the last (`GradientSum.handOver`).
  case sum(GradientSum, first: Bool)

  /// Where the kernel writes `tensor`'s gradient.
  func destination(_ tensor: ParameterTensor) -> UnsafeMutablePointer<Float> {
    switch self {
    case .direct(let g, _): g.pointer
    case .sum(let s, _): s.slot(for: tensor)
    }
  }

  /// Whether the kernel adds to `destination` instead of overwriting it.
  var accumulates: Bool {
    if case .sum(_, let first) = self { return !first }
    return false
  }

  /// Called once the kernel has written `tensor`'s gradient.
  func finished(_ tensor: ParameterTensor) {
    if case .direct(let g, let updater) = self { updater.update(tensor, gradient: g.pointer) }
  }
}
