import LomoCore
import LomoKernels

/// One parameter tensor in its storage dtype, accounted under `MemoryCategory.parameters`: the
/// whole tensor, or one rank's `RowShard` of it (`shape` and `count` are then the shard's).
///
/// f32 and bf16 storage feed the GEMMs directly; f16 storage is widened to f32 at use.
public final class ParameterTensor: @unchecked Sendable {
  public enum Storage {
    case f32(AlignedBuffer<Float>)
    case bf16(AlignedBuffer<BFloat16>)
    case f16(AlignedBuffer<Float16>)

    /// Elements held.
    public var count: Int {
      switch self {
      case .f32(let b): b.count
      case .bf16(let b): b.count
      case .f16(let b): b.count
      }
    }
  }

  public let id: ParameterID
  /// The shape of what this tensor holds (the shard's when sharded).
  public let shape: [Int]
  public let storage: Storage
  /// The part of the whole tensor held here.
  public let shard: RowShard

  public var count: Int { shape.reduce(1, *) }

  public var dtype: DType {
    switch storage {
    case .f32: .f32
    case .bf16: .bf16
    case .f16: .f16
    }
  }

  /// A zero tensor of `dtype` of `shape`, or of its part `shard` (whose `fullShape` is
  /// `shape`) in `category`.
  public init(id: ParameterID, shape: [Int], dtype: DType, shard: RowShard? = nil,
              category: MemoryCategory = .parameters, ledger: MemoryLedger = .shared) {
    let shard = shard ?? .whole(shape)
    precondition(shard.fullShape == shape, "shard \(shard) of a tensor of shape \(shape)")
    self.id = id
    self.shard = shard
    self.shape = shard.shape
    let n = self.shape.reduce(1, *)
    switch dtype {
    case .f32: storage = .f32(AlignedBuffer(count: n, category: category, ledger: ledger))
    case .bf16: storage = .bf16(AlignedBuffer(count: n, category: category, ledger: ledger))
    case .f16: storage = .f16(AlignedBuffer(count: n, category: category, ledger: ledger))
    }
  }

  /// The whole tensor `id` of `shape` in the memory of `storage` (which holds exactly its
  /// elements): a view that shares the buffer, e.g. a gathered layer's slot.
  public init(id: ParameterID, shape: [Int], sharing storage: Storage) {
    self.id = id
    self.shape = shape
    self.storage = storage
    shard = .whole(shape)
    precondition(storage.count == count, "\(storage.count) elements of storage for shape \(shape)")
  }

  /// Stores the whole tensor's `values` (f32, `shard.fullCount` of them; a shard keeps its
  /// rows), rounding to nearest for 16-bit storage.
  public func assign(_ values: UnsafePointer<Float>) {
    assign(values, elements: 0..<shard.fullCount)
  }

  /// Stores `values` (f32, `elements.count` of them) as the whole tensor's flat elements
  /// `elements` (a shard keeps those it holds), rounding to nearest for 16-bit storage.
  /// Disjoint ranges may be assigned concurrently.
  public func assign(_ values: UnsafePointer<Float>, elements: Range<Int>) {
    precondition(elements.lowerBound >= 0 && elements.upperBound <= shard.fullCount,
                 "elements \(elements) outside \(shard.fullCount)")
    let held = elements.clamped(to: shard.elements)
    guard !held.isEmpty else { return }
    let n = held.count, at = held.lowerBound - shard.elements.lowerBound
    let from = values + (held.lowerBound - elements.lowerBound)
    switch storage {
    case .f32(let b): (b.pointer + at).update(from: from, count: n)
    case .bf16(let b): Convert.toBF16(b.pointer + at, from, count: n)
    case .f16(let b): Convert.toF16(b.pointer + at, from, count: n)
    }
  }

  /// Writes the values widened to f32 into `out` (count elements).
  public func copyAsFloat(into out: UnsafeMutablePointer<Float>) {
    switch storage {
    case .f32(let b): out.update(from: b.pointer, count: count)
    case .bf16(let b): Convert.toFloat(out, b.pointer, count: count)
    case .f16(let b): Convert.toFloat(out, b.pointer, count: count)
    }
  }

  /// Rows `range` of this (whole) matrix, sharing its memory: e.g. one slice of a gradient
  /// handed over in `RowSlicedGradient`s. The rows must start 64-byte aligned.
  public func rows(_ range: Range<Int>) -> ParameterTensor {
    precondition(shape.count == 2 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                 "rows \(range) of a tensor of shape \(shape)")
    let at = range.lowerBound * shape[1], n = range.count * shape[1]
    let view: Storage = switch storage {
    case .f32(let b): .f32(AlignedBuffer(viewing: b.pointer + at, count: n, category: b.category, owner: b))
    case .bf16(let b): .bf16(AlignedBuffer(viewing: b.pointer + at, count: n, category: b.category, owner: b))
    case .f16(let b): .f16(AlignedBuffer(viewing: b.pointer + at, count: n, category: b.category, owner: b))
    }
    return ParameterTensor(id: id, shape: [range.count, shape[1]], sharing: view)
  }

  /// All values as f32 (a copy).
  public var floats: [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      copyAsFloat(into: buffer.baseAddress!)
      initialized = count
    }
  }

  /// The weight for a GEMM, or nil for f16 storage, which the caller widens first.
  public var gemmWeight: WeightPointer? {
    switch storage {
    case .f32(let b): .f32(b.pointer)
    case .bf16(let b): .bf16(b.pointer)
    case .f16: nil
    }
  }
}
