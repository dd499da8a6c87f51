import LomoCore
import LomoTestSupport
import XCTest

/// The bulk conversions of `Convert` (CLomoSIMD's C loops) against the scalar definitions
/// (`BFloat16(_:)`, `BFloat16(_:stochasticBits:)`, `Float16(_:)`): identical bits on the edge
/// cases of rounding and on random values, over a length with a ragged last vector.
final class ConvertTests: XCTestCase {
  /// NaNs (quiet, signalling, negative, all payload bits), ±infinity, the largest finite
  /// values and the overflow boundary, ties to even and odd, subnormals, ±0 and ±1.
  static let edgeBits: [UInt32] = [
    0x7FC0_0000, 0x7F80_0001, 0x7FBF_FFFF, 0xFFC0_0000, 0xFF80_0001, 0xFFFF_FFFF, 0x7FFF_FFFF,
    0x7F80_0000, 0xFF80_0000,
    0x7F7F_FFFF, 0xFF7F_FFFF, 0x7F7F_7FFF, 0x7F7F_8000, 0x7F7E_8000, 0x7F7F_8001,
    0x3F80_8000, 0x3F81_8000, 0x3F80_8001, 0x3F80_7FFF, 0xBF80_8000, 0xBF81_8000,
    0x0000_0001, 0x0000_7FFF, 0x0000_8000, 0x0001_8000, 0x0000_8001, 0x007F_FFFF, 0x807F_8000,
    0x0080_0000, 0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xBF80_0000,
  ]

  static var values: [Float] {
    var rng = Xoshiro256(seed: 5)
    let random = (0..<997).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
    return edgeBits.map(Float.init(bitPattern:)) + random
  }

  func testNearestMatchesTheScalarDefinition() {
    let values = Self.values
    let src = AlignedBuffer<Float>(values, category: .scratch)
    let bf = AlignedBuffer<BFloat16>(count: values.count, category: .scratch)
    Convert.toBF16(bf.pointer, src.pointer, count: values.count)
    XCTAssertEqual(bf.array.map(\.bitPattern), values.map { BFloat16($0).bitPattern })
    XCTAssertEqual(bf.array[0...8].map(\.bitPattern),
                   [0x7FC0, 0x7FC0, 0x7FFF, 0xFFC0, 0xFFC0, 0xFFFF, 0x7FFF, 0x7F80, 0xFF80],
                   "NaNs stay quiet NaNs with their sign, infinities stay infinite")
    let back = AlignedBuffer<Float>(count: values.count, category: .scratch)
    Convert.toFloat(back.pointer, bf.pointer, count: values.count)
    XCTAssertEqual(back.array.map(\.bitPattern), values.map { BFloat16($0).float.bitPattern })
    keepAlive(src)
  }

  func testInPlaceScaledMatchesTheScalarDefinition() {
    for scale: Float in [1, 0.75, -3, 0x1p-100] {
      let values = Self.values
      let row = AlignedBuffer<Float>(values, category: .scratch)
      Convert.toBF16InPlace(UnsafeMutableRawPointer(row.pointer), count: values.count, scale: scale)
      let got = UnsafeRawPointer(row.pointer).withMemoryRebound(to: UInt16.self, capacity: values.count) {
        Array(UnsafeBufferPointer(start: $0, count: values.count))
      }
      XCTAssertEqual(got, values.map { BFloat16($0 * scale).bitPattern }, "scale \(scale)")
      XCTAssertEqual(row.array[(values.count + 1) / 2..<values.count].map(\.bitPattern),
                     values[(values.count + 1) / 2..<values.count].map(\.bitPattern),
                     "the second half of the bytes is left as it was")
    }
  }

  /// One draw per four elements, 16-bit fields low first, as the contract says; the same
  /// draws through the scalar definition give the same bits.
  func testStochasticMatchesTheScalarDefinitionWithTheSameDraws() {
    let values = Self.values
    let src = AlignedBuffer<Float>(values, category: .scratch)
    let bf = AlignedBuffer<BFloat16>(count: values.count, category: .scratch)
    var rng = Xoshiro256(seed: 9)
    Convert.toBF16Stochastic(bf.pointer, src.pointer, count: values.count, rng: &rng)
    var reference = Xoshiro256(seed: 9)
    var bits: UInt64 = 0
    let expected = values.indices.map { i in
      if i % 4 == 0 { bits = reference.next() }
      return BFloat16(values[i], stochasticBits: UInt16(truncatingIfNeeded: bits >> (16 * UInt64(i % 4)))).bitPattern
    }
    XCTAssertEqual(bf.array.map(\.bitPattern), expected)
    XCTAssertEqual(rng.next(), reference.next(), "as many draws as the scalar path")
    for (v, r) in zip(values, bf.array) where v.isFinite {
      // Stochastic rounding lands on one of the two bf16 neighbours of v.
      let down = UInt16(v.bitPattern >> 16)
      XCTAssertTrue(r.bitPattern == down || r.bitPattern == down &+ 1, "\(v) -> \(r.float)")
    }
    keepAlive(src)
  }

  func testF16MatchesTheScalarConversion() {
    let values = Self.values + [65520, 65504, -65520]
    let src = AlignedBuffer<Float>(values, category: .scratch)
    let f16 = AlignedBuffer<Float16>(count: values.count, category: .scratch)
    let back = AlignedBuffer<Float>(count: values.count, category: .scratch)
    Convert.toF16(f16.pointer, src.pointer, count: values.count)
    XCTAssertEqual(f16.array.map(\.bitPattern), values.map { Float16($0).bitPattern })
    Convert.toFloat(back.pointer, f16.pointer, count: values.count)
    XCTAssertEqual(back.array.map(\.bitPattern), values.map { Float(Float16($0)).bitPattern })
    XCTAssertEqual(Float(Float16(Float(65520))), .infinity)
    keepAlive(src)
  }
}
