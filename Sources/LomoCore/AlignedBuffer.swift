#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A fixed-size, 64-byte aligned, zero-initialised array of `Element`, accounted in a
/// `MemoryLedger` under one category for its whole life.
///
/// Reference semantics: kernels receive `pointer` and write through it. The buffer frees its
/// memory and releases its ledger entry on deinit.
///
/// Buffers of `directMappingBytes` or more are mapped straight from the kernel (anonymous
/// `mmap`, page-aligned, zero pages until first written) and unmapped on deinit, so freeing a
/// large buffer always returns its memory and the ledger tracks what the process can hold;
/// smaller ones come from the allocator and are zero-filled.
///
/// A view (`init(viewing:count:owner:)`) presents memory another object owns, e.g. a tensor
/// inside a memory-mapped file: it is neither accounted nor freed, and keeps its owner alive.
public final class AlignedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
  public let count: Int
  public let category: MemoryCategory
  public let pointer: UnsafeMutablePointer<Element>
  /// nil for a view.
  private let ledger: MemoryLedger?

  public static var alignment: Int { 64 }
  public static var directMappingBytes: Int { 1 << 20 }
  private enum Ownership { case allocated, mapped, view(AnyObject) }
  private let ownership: Ownership

  public var byteCount: Int { count * MemoryLayout<Element>.stride }

  /// - Precondition: `count >= 0`. Traps if the allocation fails: callers that size a buffer
  ///   from untrusted input validate the size first.
  public init(count: Int, category: MemoryCategory, ledger: MemoryLedger = .shared) {
    precondition(count >= 0, "negative buffer size \(count)")
    let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
    precondition(!overflow, "buffer of \(count) elements overflows Int")
    var raw: UnsafeMutableRawPointer?
    let mapped = bytes >= Self.directMappingBytes
    ownership = mapped ? .mapped : .allocated
    if mapped {
      let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
      precondition(p != MAP_FAILED && p != nil, "out of memory mapping \(bytes) bytes")
      raw = p
    } else {
      let status = posix_memalign(&raw, Self.alignment, max(bytes, Self.alignment))
      precondition(status == 0 && raw != nil, "out of memory allocating \(bytes) bytes")
      memset(raw!, 0, max(bytes, Self.alignment))
    }
    self.count = count
    self.category = category
    self.ledger = ledger
    self.pointer = raw!.bindMemory(to: Element.self, capacity: max(count, 1))
    ledger.allocate(bytes, as: category)
  }

  /// A buffer holding a copy of `values`.
  public convenience init(
    _ values: some Collection<Element>, category: MemoryCategory, ledger: MemoryLedger = .shared
  ) {
    self.init(count: values.count, category: category, ledger: ledger)
    _ = UnsafeMutableBufferPointer(start: pointer, count: count).initialize(from: values)
  }

  /// `count` elements at `pointer`, which `owner` keeps valid (and 64-byte aligned) for as
  /// long as it lives.
  public init(viewing pointer: UnsafeMutablePointer<Element>, count: Int, category: MemoryCategory,
              owner: AnyObject) {
    precondition(count >= 0, "negative view size \(count)")
    precondition(Int(bitPattern: pointer) % Self.alignment == 0, "view at an unaligned address")
    self.count = count
    self.category = category
    self.pointer = pointer
    ledger = nil
    ownership = .view(owner)
  }

  deinit {
    ledger?.release(byteCount, as: category)
    switch ownership {
    case .mapped: munmap(pointer, byteCount)
    case .allocated: free(pointer)
    case .view: break
    }
  }

  public var buffer: UnsafeMutableBufferPointer<Element> {
    UnsafeMutableBufferPointer(start: pointer, count: count)
  }

  public subscript(index: Int) -> Element {
    get {
      precondition(index >= 0 && index < count, "index \(index) out of 0..<\(count)")
      return pointer[index]
    }
    set {
      precondition(index >= 0 && index < count, "index \(index) out of 0..<\(count)")
      pointer[index] = newValue
    }
  }

  public var array: [Element] { Array(buffer) }

  public func fill(_ value: Element) { buffer.update(repeating: value) }
}
