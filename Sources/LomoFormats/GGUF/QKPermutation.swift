/// llama.cpp's row permutation of the attention Q and K projections.
///
/// llama.cpp's convert script stores HF's `W` (rows = heads × headDim, rotate-half RoPE
/// convention) as `W.reshape(heads, 2, headDim / 2, ...).swapaxes(1, 2).reshape(W.shape)`,
/// which interleaves the two halves of each head (GPT-J style RoPE pairs). With
/// `D = headDim`, GGUF row `h·D + 2i + s` holds HF row `h·D + s·D/2 + i` (s ∈ {0, 1},
/// i < D/2). Use `heads = head_count` for attn_q and `head_count_kv` for attn_k.
public enum QKPermutation {
  public enum Error: Swift.Error, Equatable, CustomStringConvertible {
    case badShape(rows: Int, columns: Int, heads: Int, count: Int)

    public var description: String {
      switch self {
      case .badShape(let rows, let columns, let heads, let count):
        "Q/K permutation: \(count) values do not form [\(rows), \(columns)] with rows "
          + "divisible into \(heads) heads of even size"
      }
    }
  }

  /// Undoes llama.cpp's permutation in place: afterwards `data` ([rows, columns] row-major)
  /// equals the HF tensor. Works on any element type (f32, bf16); 1-D biases use columns 1.
  public static func undo<T: BitwiseCopyable>(
    _ data: UnsafeMutableBufferPointer<T>, rows: Int, columns: Int, heads: Int
  ) throws(Error) {
    try permute(data, rows: rows, columns: columns, heads: heads, inverse: true)
  }

  /// Applies llama.cpp's permutation (HF to GGUF order), the inverse of `undo`.
  public static func apply<T: BitwiseCopyable>(
    _ data: UnsafeMutableBufferPointer<T>, rows: Int, columns: Int, heads: Int
  ) throws(Error) {
    try permute(data, rows: rows, columns: columns, heads: heads, inverse: false)
  }

  /// Convenience for arrays: returns the HF-order copy of a GGUF-order tensor.
  public static func undo<T: BitwiseCopyable>(_ data: [T], rows: Int, columns: Int, heads: Int)
    throws(Error) -> [T]
  {
    var out = data
    try out.withUnsafeMutableBufferPointer {
      (b: inout UnsafeMutableBufferPointer<T>) throws(Error) in
      try undo(b, rows: rows, columns: columns, heads: heads)
    }
    return out
  }

  private static func permute<T: BitwiseCopyable>(
    _ data: UnsafeMutableBufferPointer<T>, rows: Int, columns: Int, heads: Int, inverse: Bool
  ) throws(Error) {
    guard heads > 0, rows > 0, columns > 0, rows % heads == 0, (rows / heads) % 2 == 0,
      rows.multipliedReportingOverflow(by: columns) == (data.count, false)
    else {
      throw .badShape(rows: rows, columns: columns, heads: heads, count: data.count)
    }
    let d = rows / heads
    let half = d / 2
    let headElements = d * columns
    // One head at a time through a scratch copy of that head's rows.
    let scratch = UnsafeMutableBufferPointer<T>.allocate(capacity: headElements)
    defer { scratch.deallocate() }
    let base = data.baseAddress!
    for h in 0..<heads {
      let head = base + h * headElements
      _ = scratch.initialize(from: UnsafeBufferPointer(start: head, count: headElements))
      for s in 0..<2 {
        for i in 0..<half {
          let ggufRow = 2 * i + s
          let hfRow = s * half + i
          let (to, from) = inverse ? (hfRow, ggufRow) : (ggufRow, hfRow)
          (head + to * columns).update(from: scratch.baseAddress! + from * columns, count: columns)
        }
      }
    }
  }
}
