/// GPT-2's reversible map from bytes to printable unicode characters: printable Latin-1 bytes
/// ('!'...'~', '¡'...'¬', '®'...'ÿ') map to themselves, the other 68 bytes to U+0100 onwards in
/// byte order. A byte-level vocabulary spells every token in these 256 characters.
public enum ByteLevel {
  /// The character of each byte.
  public static let byteToScalar: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
      if isPrintable(UInt8(b)) {
        table[b] = Unicode.Scalar(UInt32(b))!
      } else {
        table[b] = Unicode.Scalar(next)!
        next += 1
      }
    }
    return table
  }()

  /// The UTF-8 bytes of each byte's character (one or two bytes), for lookups by spelling.
  static let utf8Spelling: [[UInt8]] = byteToScalar.map { Array(UTF8.encode($0)!) }

  /// The byte of each alphabet character, indexed by scalar value (< 324); -1 outside the alphabet.
  static let scalarToByte: [Int16] = {
    var table = [Int16](repeating: -1, count: 324)
    for (b, s) in byteToScalar.enumerated() { table[Int(s.value)] = Int16(b) }
    return table
  }()

  static func isPrintable(_ b: UInt8) -> Bool {
    (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
  }

  public static func isInAlphabet(_ s: Unicode.Scalar) -> Bool { byte(of: s) != nil }

  /// The byte a character stands for, or nil if it is not in the alphabet.
  @inline(__always)
  public static func byte(of s: Unicode.Scalar) -> UInt8? {
    let v = Int(s.value)
    guard v < scalarToByte.count else { return nil }
    let b = scalarToByte[v]
    return b < 0 ? nil : UInt8(b)
  }

  /// The alphabet spelling of UTF-8 bytes.
  public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    var s = String.UnicodeScalarView()
    for b in bytes { s.append(byteToScalar[Int(b)]) }
    return String(s)
  }

  /// The bytes a token spells; a token with any character outside the alphabet (an added token
  /// such as "<|im_start|>" written plainly) stands for its own UTF-8 bytes, as in HF's decoder.
  public static func decode(token: String, into out: inout [UInt8]) {
    let start = out.count
    for s in token.unicodeScalars {
      guard let b = byte(of: s) else {
        out.removeSubrange(start...)
        out.append(contentsOf: token.utf8)
        return
      }
      out.append(b)
    }
  }
}
