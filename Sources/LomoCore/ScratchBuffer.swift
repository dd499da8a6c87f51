/// A reusable scratch allocation that grows on demand and never shrinks, accounted under
/// `MemoryCategory.scratch`. Kernels that need temporary space take one of these so that
/// repeated calls reuse the same memory.
public final class ScratchBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
  private var storage: AlignedBuffer<Element>?
  private let ledger: MemoryLedger

  public init(ledger: MemoryLedger = .shared) { self.ledger = ledger }

  /// Capacity in elements currently held.
  public var capacity: Int { storage?.count ?? 0 }

  /// A pointer to at least `count` elements. Contents are unspecified; the pointer stays valid
  /// until the next call that asks for more than `capacity`.
  public func pointer(count: Int) -> UnsafeMutablePointer<Element> {
    if let storage, storage.count >= count { return storage.pointer }
    storage = nil  // release before allocating the larger one
    let grown = AlignedBuffer<Element>(count: count, category: .scratch, ledger: ledger)
    storage = grown
    return grown.pointer
  }
}
