import LomoCore
import LomoKernels

/// One parameter tensor in its storage dtype, accounted under `MemoryCategory.parameters`.
///
/// f32 and bf16 storage feed the GEMMs directly; f16 storage is widened to f32 at use.
public final class ParameterTensor: @unchecked Sendable {
  public enum Storage {
    case f32(AlignedBuffer<Float>)
    case bf16(AlignedBuffer<BFloat16>)
    case f16(AlignedBuffer<Float16>)
  }

  public let id: ParameterID
  public let shape: [Int]
  public let storage: Storage

  public var count: Int { shape.reduce(1, *) }

  public var dtype: DType {
    switch storage {
    case .f32: .f32
    case .bf16: .bf16
    case .f16: .f16
    }
  }

  /// A zero tensor of `dtype`.
  public init(id: ParameterID, shape: [Int], dtype: DType, ledger: MemoryLedger = .shared) {
    self.id = id
    self.shape = shape
    let n = shape.reduce(1, *)
    switch dtype {
    case .f32: storage = .f32(AlignedBuffer(count: n, category: .parameters, ledger: ledger))
    case .bf16: storage = .bf16(AlignedBuffer(count: n, category: .parameters, ledger: ledger))
    case .f16: storage = .f16(AlignedBuffer(count: n, category: .parameters, ledger: ledger))
    }
  }

  /// Stores `values` (f32, count == shape product), rounding to nearest for 16-bit storage.
  public func assign(_ values: UnsafePointer<Float>) {
    assign(values, elements: 0..<count)
  }

  /// Stores `values` (f32, `elements.count` of them) into the flat elements `elements`,
  /// rounding to nearest for 16-bit storage. Disjoint ranges may be assigned concurrently.
  public func assign(_ values: UnsafePointer<Float>, elements: Range<Int>) {
    precondition(elements.lowerBound >= 0 && elements.upperBound <= count, "elements \(elements) outside \(count)")
    let n = elements.count, at = elements.lowerBound
    switch storage {
    case .f32(let b): (b.pointer + at).update(from: values, count: n)
    case .bf16(let b): Convert.toBF16(b.pointer + at, values, count: n)
    case .f16(let b): Convert.toF16(b.pointer + at, values, count: n)
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
