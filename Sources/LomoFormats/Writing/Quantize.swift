import LomoCore

/// Encoding of f32 values into the GGUF tensor types that `GGUFWriter` writes.
///
/// Numerical contract: bit-identical to gguf-py's `gguf.quants.quantize` (numpy) and ggml's
/// reference `quantize_row_*_ref`:
/// - F16: IEEE binary16, round to nearest even (overflow to ±infinity).
/// - BF16: round to nearest even on the upper 16 bits; NaN stays a quiet NaN.
/// - Q8_0: per block of 32, `d = max|x| / 127` (f32), `id = d == 0 ? 0 : 1 / d`,
///   `q = round_half_away(x * id)` as int8, `d` stored as f16. A quotient that is not finite
///   (the block's scale underflows to an f32 subnormal, or a NaN input) is stored as 0, which
///   is what ggml gives on x86 for that otherwise undefined conversion.
public enum Quantize {
  /// The types `encode` supports.
  public static let supportedTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0]

  /// Bytes `count` elements of `type` occupy, or nil when `count` is not a multiple of the
  /// block size or the type is unknown.
  public static func byteCount(_ type: GGMLType, count: Int) -> Int? {
    guard let block = type.blockSize, let bytes = type.bytesPerBlock, count % block == 0 else { return nil }
    return count / block * bytes
  }

  /// Encodes `values` as `type` into `destination` (`byteCount(type, values.count)` bytes).
  /// f32 and bf16 are written in the host's byte order (little-endian, as GGUF and
  /// safetensors are, on every machine lomo runs on).
  /// - Precondition: `type` is in `supportedTypes`, the sizes fit, and for bf16 `destination`
  ///   is 2-byte aligned.
  public static func encode(
    _ type: GGMLType, _ values: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawPointer
  ) {
    let n = values.count
    let src = UncheckedSendable(values.baseAddress!)
    let dst = UncheckedSendable(destination)
    switch type {
    case .f32:
      destination.copyMemory(from: values.baseAddress!, byteCount: 4 * n)
    case .f16:
      precondition(Int(bitPattern: destination) % 2 == 0, "f16 destination must be 2-byte aligned")
      Convert.toF16(destination.assumingMemoryBound(to: Float16.self), values.baseAddress!, count: n)
    case .bf16:
      precondition(Int(bitPattern: destination) % 2 == 0, "bf16 destination must be 2-byte aligned")
      Convert.toBF16(destination.assumingMemoryBound(to: BFloat16.self), values.baseAddress!, count: n)
    case .q8_0:
      precondition(n % 32 == 0, "Q8_0 needs a multiple of 32 values, got \(n)")
      Threads.parallelFor(n / 32, minChunk: 512) { r in
        for b in r { q8_0Block(src.value + 32 * b, dst.value + 34 * b) }
      }
    default:
      preconditionFailure("Quantize.encode does not support \(type)")
    }
  }

  /// Convenience for arrays: the encoded bytes.
  public static func encode(_ type: GGMLType, _ values: [Float]) -> [UInt8] {
    guard let size = byteCount(type, count: values.count) else {
      preconditionFailure("\(values.count) values do not fill whole \(type) blocks")
    }
    var out = [UInt8](repeating: 0, count: size)
    values.withUnsafeBufferPointer { v in
      out.withUnsafeMutableBytes { encode(type, v, into: $0.baseAddress!) }
    }
    return out
  }

  /// One Q8_0 block: 32 values to an f16 scale and 32 int8.
  @inline(__always)
  static func q8_0Block(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
    var amax: Float = 0
    for j in 0..<32 { amax = Swift.max(amax, abs(x[j])) }
    let d = amax / 127
    let id: Float = d == 0 ? 0 : 1 / d
    out.storeBytes(of: Float16(d).bitPattern.littleEndian, as: UInt16.self)
    for j in 0..<32 {
      let q = (x[j] * id).rounded(.toNearestOrAwayFromZero)
      let byte: Int8 = q.isFinite ? Int8(clamping: Int(q)) : 0
      out.storeBytes(of: byte, toByteOffset: 2 + j, as: Int8.self)
    }
  }
}
