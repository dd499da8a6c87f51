/// A fast 64-bit checksum of a byte range, for the tensors of a `ResumeCheckpoint`: it detects
/// a corrupted or truncated file, not a deliberate forgery.
///
/// The bytes are read as little-endian 64-bit words in four interleaved lanes (so the
/// multiplications of consecutive words overlap); each lane is `lane = (lane ^ word) &* prime`
/// rotated by 31 bits (FNV-style over words, with the rotation carrying high bits down). The
/// tail (under 32 bytes) and the length are mixed in, then the lanes are combined and finished
/// with splitmix64's avalanche. The value is the same on every machine; written as 16
/// lowercase hex digits in `state.json`.
public struct Checksum64: Sendable, Equatable, CustomStringConvertible {
  public let value: UInt64

  public init(value: UInt64) { self.value = value }

  /// The checksum of `bytes`.
  public init(_ bytes: UnsafeRawBufferPointer) {
    let prime: UInt64 = 0x100_0000_01b3
    var lanes: (UInt64, UInt64, UInt64, UInt64) =
      (0xcbf2_9ce4_8422_2325, 0x9e37_79b9_7f4a_7c15, 0xc2b2_ae3d_27d4_eb4f, 0x1656_67b1_9e37_79f9)
    func mix(_ lane: inout UInt64, _ word: UInt64) {
      lane = (lane ^ word) &* prime
      lane = (lane << 31) | (lane >> 33)
    }
    func word(_ offset: Int) -> UInt64 {
      UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    let blocks = bytes.count / 32
    for b in 0..<blocks {
      let o = b * 32
      mix(&lanes.0, word(o))
      mix(&lanes.1, word(o + 8))
      mix(&lanes.2, word(o + 16))
      mix(&lanes.3, word(o + 24))
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    for i in (blocks * 32)..<bytes.count {
      tail |= UInt64(bytes[i]) << shift
      shift += 8
      if shift == 64 {
        mix(&lanes.0, tail)
        tail = 0
        shift = 0
      }
    }
    mix(&lanes.1, tail)
    mix(&lanes.2, UInt64(bytes.count))
    var h = lanes.0 ^ (lanes.1 &* 3) ^ (lanes.2 &* 5) ^ (lanes.3 &* 7)
    h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
    h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
    value = h ^ (h >> 31)
  }

  /// Reads 16 hex digits (as `description` writes them); nil for anything else.
  public init?(hex: String) {
    guard hex.utf8.count == 16, hex.allSatisfy(\.isHexDigit), let v = UInt64(hex, radix: 16) else { return nil }
    value = v
  }

  /// 16 lowercase hex digits.
  public var description: String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}
