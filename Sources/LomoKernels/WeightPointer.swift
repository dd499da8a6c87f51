import LomoCore

/// A read-only weight matrix in its storage type. Kernels compute in f32 either way; bf16
/// weights go through oneDNN's bf16 matmul with activations converted to bf16.
public enum WeightPointer {
  case f32(UnsafePointer<Float>)
  case bf16(UnsafePointer<BFloat16>)
}

/// Reusable bf16 copies of activations for GEMMs with bf16 weights (two slots, because a
/// weight-gradient product converts both of its operands).
public final class GemmScratch: @unchecked Sendable {
  public let first: ScratchBuffer<BFloat16>
  public let second: ScratchBuffer<BFloat16>
  public init(ledger: MemoryLedger = .shared) {
    first = ScratchBuffer(ledger: ledger)
    second = ScratchBuffer(ledger: ledger)
  }
}
