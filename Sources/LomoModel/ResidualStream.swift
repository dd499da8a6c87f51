import LomoCore

/// The residual stream at the layer boundaries: boundary l is the input of layer l, boundary L
/// the input of the final norm; `slots` boundaries of K micro-batches × N rows × C each
/// (L + 1 slots when training keeps every layer's input, 2 alternating ones for inference).
///
/// With bf16 weights the boundaries are stored in bf16 (round to nearest even), as a bf16
/// model in PyTorch carries its hidden states: half the memory of the largest term of
/// accumulation and checkpointing, and every reader (forward, the recompute, backward) sees
/// the same rounded values. Inside a layer everything stays f32. Otherwise they are f32.
///
/// A boundary is read as f32 with `read` and written through `destination` then `commit`.
final class ResidualStream {
  private enum Storage {
    case f32(AlignedBuffer<Float>)
    /// The stored boundaries, the widened input being read and the output being written.
    case bf16(AlignedBuffer<BFloat16>, input: AlignedBuffer<Float>, output: AlignedBuffer<Float>)
  }

  private let storage: Storage
  let slots: Int
  /// Elements of one micro-batch's boundary (N·C) and of one slot (K·N·C).
  private let stride: Int
  private let slotSize: Int

  /// - Parameter bf16: store the boundaries in bf16.
  init(slots: Int, microBatches: Int, rows: Int, channels: Int, bf16: Bool, ledger: MemoryLedger) {
    self.slots = slots
    stride = rows * channels
    slotSize = microBatches * stride
    let total = slots * slotSize
    if bf16 {
      storage = .bf16(AlignedBuffer(count: total, category: .activations, ledger: ledger),
                      input: AlignedBuffer(count: stride, category: .activations, ledger: ledger),
                      output: AlignedBuffer(count: stride, category: .activations, ledger: ledger))
    } else {
      storage = .f32(AlignedBuffer(count: total, category: .activations, ledger: ledger))
    }
  }

  private func offset(_ boundary: Int, _ k: Int) -> Int { (boundary % slots) * slotSize + k * stride }

  /// Boundary `boundary` of micro-batch `k` as f32 [N, C]: the stored values themselves, or
  /// (bf16) widened into the input buffer, valid until the next `read`.
  func read(_ boundary: Int, microBatch k: Int) -> UnsafePointer<Float> {
    switch storage {
    case .f32(let b):
      return UnsafePointer(b.pointer + offset(boundary, k))
    case .bf16(let b, let input, _):
      Convert.toFloat(input.pointer, b.pointer + offset(boundary, k), count: stride)
      return UnsafePointer(input.pointer)
    }
  }

  /// Where to write boundary `boundary` of micro-batch `k` [N, C] (f32), then `commit`.
  func destination(_ boundary: Int, microBatch k: Int) -> UnsafeMutablePointer<Float> {
    switch storage {
    case .f32(let b): b.pointer + offset(boundary, k)
    case .bf16(_, _, let output): output.pointer
    }
  }

  /// Stores what was written at `destination(boundary, microBatch: k)` (bf16: rounded).
  func commit(_ boundary: Int, microBatch k: Int) {
    if case .bf16(let b, _, let output) = storage {
      Convert.toBF16(b.pointer + offset(boundary, k), output.pointer, count: stride)
    }
  }
}
