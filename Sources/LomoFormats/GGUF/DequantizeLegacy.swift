// The 32-element block formats. Within a block of 32, element j < 16 takes the low nibble of
// qs[j] and element j + 16 its high nibble; Q5 formats add bit j of the 32-bit qh as bit 4.
//   Q8_0 (34 B): d f16, qs int8[32]                    y = q * d
//   Q4_0 (18 B): d f16, qs[16]                         y = (q - 8) * d
//   Q4_1 (20 B): d f16, m f16, qs[16]                  y = q * d + m
//   Q5_0 (22 B): d f16, qh u32, qs[16]                 y = (q - 16) * d
//   Q5_1 (24 B): d f16, m f16, qh u32, qs[16]          y = q * d + m

extension Dequantize {
  static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for b in range {
      let p = src + 34 * b
      let y = dst + 32 * b
      let d = p.f16(at: 0)
      for j in 0..<32 { y[j] = Float(Int8(bitPattern: p.byte(2 + j))) * d }
    }
  }

  static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for b in range {
      let p = src + 18 * b
      let y = dst + 32 * b
      let d = p.f16(at: 0)
      for j in 0..<16 {
        let q = p.byte(2 + j)
        y[j] = Float(Int32(q & 0xF) - 8) * d
        y[j + 16] = Float(Int32(q >> 4) - 8) * d
      }
    }
  }

  static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for b in range {
      let p = src + 20 * b
      let y = dst + 32 * b
      let d = p.f16(at: 0)
      let m = p.f16(at: 2)
      for j in 0..<16 {
        let q = p.byte(4 + j)
        y[j] = Float(q & 0xF) * d + m
        y[j + 16] = Float(q >> 4) * d + m
      }
    }
  }

  static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for b in range {
      let p = src + 22 * b
      let y = dst + 32 * b
      let d = p.f16(at: 0)
      let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
      for j in 0..<16 {
        let q = UInt32(p.byte(6 + j))
        let lo = (q & 0xF) | (((qh >> j) & 1) << 4)
        let hi = (q >> 4) | (((qh >> (j + 16)) & 1) << 4)
        y[j] = Float(Int32(lo) - 16) * d
        y[j + 16] = Float(Int32(hi) - 16) * d
      }
    }
  }

  static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for b in range {
      let p = src + 24 * b
      let y = dst + 32 * b
      let d = p.f16(at: 0)
      let m = p.f16(at: 2)
      let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
      for j in 0..<16 {
        let q = UInt32(p.byte(8 + j))
        let lo = (q & 0xF) | (((qh >> j) & 1) << 4)
        let hi = (q >> 4) | (((qh >> (j + 16)) & 1) << 4)
        y[j] = Float(lo) * d + m
        y[j + 16] = Float(hi) * d + m
      }
    }
  }
}
