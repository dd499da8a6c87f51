import LomoCore

/// Dequantisation of ggml block formats to f32, parallel over blocks.
///
/// Numerical contract: each element is computed with the same f32 operations, in the same
/// order and without fused multiply-add, as gguf-py's `gguf.quants.dequantize` (and ggml's
/// reference `dequantize_row_*`), so results match it bit for bit.
public enum Dequantize {
  /// Blocks per parallel chunk: about 16K elements, enough to amortise thread hand-off.
  static func minChunk(_ type: GGMLType) -> Int { max(1, 16384 / (type.blockSize ?? 1)) }

  /// Dequantises `count` elements of `type` stored at `source` into `destination`.
  ///
  /// - Precondition: `type.isDequantisable`, `count` a multiple of the block size, and
  ///   `source` holding `count / blockSize * bytesPerBlock` bytes (GGUFFile checks all three).
  public static func toFloat(
    _ type: GGMLType, from source: UnsafeRawPointer, count: Int,
    into destination: UnsafeMutablePointer<Float>
  ) {
    let blocks = blockCount(type, count)
    let src = UncheckedSendable(source)
    let dst = UncheckedSendable(destination)
    Threads.parallelFor(blocks, minChunk: minChunk(type)) { range in
      blockRange(type, src.value, dst.value, range)
    }
  }

  /// Dequantises to bf16 (round to nearest even) through a per-thread f32 scratch.
  public static func toBFloat16(
    _ type: GGMLType, from source: UnsafeRawPointer, count: Int,
    into destination: UnsafeMutablePointer<BFloat16>
  ) {
    let blocks = blockCount(type, count)
    let blockSize = type.blockSize!
    let perStep = max(1, 4096 / blockSize)  // blocks per scratch fill
    let src = UncheckedSendable(source)
    let dst = UncheckedSendable(destination)
    Threads.parallelFor(blocks, minChunk: minChunk(type)) { range in
      withUnsafeTemporaryAllocation(of: Float.self, capacity: perStep * blockSize) { scratch in
        var b = range.lowerBound
        while b < range.upperBound {
          let e = min(range.upperBound, b + perStep)
          // Dequantise blocks b..<e as if they started at scratch[0].
          blockRange(type, src.value, scratch.baseAddress! - b * blockSize, b..<e)
          let out = dst.value + b * blockSize
          Convert.toBF16(out, scratch.baseAddress!, count: (e - b) * blockSize)
          b = e
        }
      }
    }
  }

  /// The number of blocks in `count` elements; traps unless the type is dequantisable and
  /// `count` is whole blocks.
  private static func blockCount(_ type: GGMLType, _ count: Int) -> Int {
    precondition(type.isDequantisable, "cannot dequantise \(type)")
    let blockSize = type.blockSize!
    precondition(
      count >= 0 && count % blockSize == 0, "\(count) elements is not whole \(type) blocks")
    return count / blockSize
  }

  /// Dequantises blocks `range` of the tensor at `src` into `dst` (the whole tensor's output,
  /// indexed by element).
  static func blockRange(
    _ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>,
    _ range: Range<Int>
  ) {
    switch type {
    case .f32:
      UnsafeMutableRawPointer(dst + range.lowerBound).copyMemory(
        from: src + 4 * range.lowerBound, byteCount: 4 * range.count)
    case .f16: Dequantize.f16(src, dst, range)
    case .bf16: Dequantize.bf16(src, dst, range)
    case .q8_0: Dequantize.q8_0(src, dst, range)
    case .q4_0: Dequantize.q4_0(src, dst, range)
    case .q4_1: Dequantize.q4_1(src, dst, range)
    case .q5_0: Dequantize.q5_0(src, dst, range)
    case .q5_1: Dequantize.q5_1(src, dst, range)
    case .q4_K: Dequantize.q4_K(src, dst, range)
    case .q5_K: Dequantize.q5_K(src, dst, range)
    case .q6_K: Dequantize.q6_K(src, dst, range)
    default: preconditionFailure("cannot dequantise \(type)")
    }
  }
}

// MARK: - Shared loads

extension UnsafeRawPointer {
  /// A little-endian IEEE half at byte offset `i`, widened to f32.
  @inline(__always) func f16(at i: Int) -> Float {
    Float(
      Float16(bitPattern: UInt16(littleEndian: loadUnaligned(fromByteOffset: i, as: UInt16.self))))
  }

  @inline(__always) func byte(_ i: Int) -> UInt8 { load(fromByteOffset: i, as: UInt8.self) }
}
