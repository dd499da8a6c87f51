// Plain float storage: f16 and bf16 widened to f32 (exact).

extension Dequantize {
  static func f16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for i in range { dst[i] = src.f16(at: 2 * i) }
  }

  static func bf16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for i in range {
      let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
      dst[i] = Float(bitPattern: UInt32(bits) << 16)
    }
  }
}
