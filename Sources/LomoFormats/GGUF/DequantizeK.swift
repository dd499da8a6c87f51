// The K-quants: super-blocks of 256 elements.
//   Q4_K (144 B): d f16, dmin f16, scales[12] (8 six-bit scale/min pairs), qs[128]
//     sub-block s (32 elements) of chunk c = s / 2: low (s even) or high (s odd) nibbles of
//     qs[32c ..< 32c + 32];  y = (d * sc[s]) * q - (dmin * m[s])
//   Q5_K (176 B): as Q4_K plus qh[32] before qs: bit s of qh[l] is bit 4 of element l of s.
//   Q6_K (210 B): ql[128], qh[64], scales int8[16], d f16. Element e: half h = e / 128,
//     w = e % 128; low 4 bits from ql[64h + w % 64] (low nibble if w < 64, else high),
//     bits 4-5 from qh[32h + w % 32] >> (2 * (w / 32)); y = (d * scales[e / 16]) * (q - 32).

extension Dequantize {
  /// The 6-bit scale and min of sub-block `j` (0..<8) from the 12 packed bytes at `s`.
  @inline(__always)
  static func scaleMinK4(_ j: Int, _ s: UnsafeRawPointer) -> (scale: Float, min: Float) {
    if j < 4 {
      return (Float(s.byte(j) & 63), Float(s.byte(j + 4) & 63))
    }
    let sc = (s.byte(j + 4) & 0xF) | ((s.byte(j - 4) >> 6) << 4)
    let m = (s.byte(j + 4) >> 4) | ((s.byte(j) >> 6) << 4)
    return (Float(sc), Float(m))
  }

  /// Calls `body(c, d0, dm0, d1, dm1)` for the four 64-element chunks of the Q4_K/Q5_K block
  /// at `p`, with the scale and offset of its two sub-blocks (d·sc and dmin·m, in f32).
  @inline(__always)
  static func forEachChunkK4(
    _ p: UnsafeRawPointer, _ body: (Int, Float, Float, Float, Float) -> Void
  ) {
    let d = p.f16(at: 0)
    let dmin = p.f16(at: 2)
    let scales = p + 4
    for c in 0..<4 {
      let (sc0, m0) = scaleMinK4(2 * c, scales)
      let (sc1, m1) = scaleMinK4(2 * c + 1, scales)
      body(c, d * sc0, dmin * m0, d * sc1, dmin * m1)
    }
  }

  static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for b in range {
      let p = src + 144 * b
      let y = dst + 256 * b
      let qs = p + 16
      forEachChunkK4(p) { c, d0, dm0, d1, dm1 in
        let q = qs + 32 * c
        let y0 = y + 64 * c
        let y1 = y0 + 32
        for l in 0..<32 {
          let v = q.byte(l)
          y0[l] = d0 * Float(v & 0xF) - dm0
          y1[l] = d1 * Float(v >> 4) - dm1
        }
      }
    }
  }

  static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for b in range {
      let p = src + 176 * b
      let y = dst + 256 * b
      let qh = p + 16
      let qs = p + 48
      forEachChunkK4(p) { c, d0, dm0, d1, dm1 in
        let q = qs + 32 * c
        let y0 = y + 64 * c
        let y1 = y0 + 32
        let bit0 = UInt8(2 * c)
        let bit1 = UInt8(2 * c + 1)
        for l in 0..<32 {
          let v = q.byte(l)
          let h = qh.byte(l)
          y0[l] = d0 * Float((v & 0xF) | (((h >> bit0) & 1) << 4)) - dm0
          y1[l] = d1 * Float((v >> 4) | (((h >> bit1) & 1) << 4)) - dm1
        }
      }
    }
  }

  static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>)
  {
    for b in range {
      let p = src + 210 * b
      let y = dst + 256 * b
      let d = p.f16(at: 208)
      for h in 0..<2 {
        let ql = p + 64 * h
        let qh = p + 128 + 32 * h
        let sc = p + 192 + 8 * h
        let yh = y + 128 * h
        for part in 0..<4 {  // 32 elements each: w in 32*part ..< 32*part + 32
          let shift = UInt8(2 * part)
          let low = ql + 32 * (part & 1)
          let useHigh = part >= 2
          let s0 = d * Float(Int8(bitPattern: sc.byte(2 * part)))
          let s1 = d * Float(Int8(bitPattern: sc.byte(2 * part + 1)))
          let yp = yh + 32 * part
          for l in 0..<32 {
            let lv = low.byte(l)
            let l4 = useHigh ? lv >> 4 : lv & 0xF
            let q = Int32(l4 | (((qh.byte(l) >> shift) & 3) << 4)) - 32
            yp[l] = (l < 16 ? s0 : s1) * Float(q)
          }
        }
      }
    }
  }
}
