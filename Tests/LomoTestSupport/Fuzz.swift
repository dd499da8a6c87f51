import Foundation
import LomoCore
import LomoFormats
import XCTest

/// Seeded mutations of a parser's input: byte flips, truncations, inserted or deleted bytes,
/// and overwrites of known size fields with edge values (0, 2^31, 2^32-1, 2^63...). The same
/// seed gives the same sequence of inputs.
public struct Mutator {
  public var rng: Xoshiro256

  public init(seed: UInt64) { rng = Xoshiro256(seed: seed) }

  /// Values that break size arithmetic: zero, one, sign bits, all ones, powers of two.
  public static let edgeValues: [UInt64] = [
    0, 1, 2, 3, 0x7F, 0xFF, 0xFFFF, 1 << 31, (1 << 32) - 1, 1 << 32, 1 << 40, 1 << 62, 1 << 63, .max,
  ]

  /// A number in 0..<n (n > 0).
  public mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

  public mutating func edgeValue() -> UInt64 { Self.edgeValues[below(Self.edgeValues.count)] }

  /// One mutation of `bytes`: flips in `region` (most often), a truncation, a little-endian
  /// u32 or u64 edge value written at one of `fields` (byte offsets of size fields), or bytes
  /// inserted or removed in `region`. `region` must lie within `bytes` and be non-empty.
  public mutating func mutate(_ bytes: [UInt8], region: Range<Int>, fields: [Int] = []) -> [UInt8] {
    var out = bytes
    switch below(fields.isEmpty ? 4 : 6) {
    case 0, 1:
      for _ in 0...below(4) { out[region.lowerBound + below(region.count)] ^= UInt8(truncatingIfNeeded: 1 << below(8) | Int(rng.next() & 0xFF)) }
    case 2:
      out.removeLast(out.count - below(out.count))
    case 3:
      let at = region.lowerBound + below(region.count)
      if rng.next() & 1 == 0 {
        out.insert(contentsOf: (0...below(8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
      } else {
        out.removeSubrange(at..<min(out.count, at + 1 + below(8)))
      }
    default:
      let at = fields[below(fields.count)], value = edgeValue()
      let width = rng.next() & 1 == 0 ? 4 : 8
      for k in 0..<width where at + k < out.count { out[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
    }
    return out
  }
}

/// Runs `body` for `iterations` seeded rounds or until `seconds` have passed, whichever comes
/// first. A round may succeed or throw an error that `accepted` allows (a typed error naming
/// the problem); any other error fails the test, and so does a round that takes longer than
/// `roundLimit` seconds (a near-hang), and so does an error message longer than
/// `maximumMessage` characters or holding a control character (binary echoed). A trap in `body` kills the test process, which fails the
/// run. Returns how many rounds ran and how many loaded successfully.
@discardableResult
public func fuzz(
  _ label: String, seed: UInt64, iterations: Int, seconds: Double, roundLimit: Double = 2, maximumMessage: Int = 600,
  accepted: (Error) -> Bool, file: StaticString = #filePath, line: UInt = #line,
  _ body: (inout Mutator, Int) throws -> Void
) -> (rounds: Int, loaded: Int) {
  var mutator = Mutator(seed: seed)
  let start = Date()
  var rounds = 0, loaded = 0
  while rounds < iterations && Date().timeIntervalSince(start) < seconds {
    let roundStart = Date()
    do {
      try body(&mutator, rounds)
      loaded += 1
    } catch {
      XCTAssertTrue(accepted(error), "\(label) round \(rounds): untyped error \(type(of: error)): \(error)", file: file, line: line)
      let text = "\(error)"
      XCTAssertTrue(text.count <= maximumMessage && !text.unicodeScalars.contains { $0.value < 0x20 },
                    "\(label) round \(rounds): unbounded message: \(text.prefix(maximumMessage))", file: file, line: line)
    }
    let took = Date().timeIntervalSince(roundStart)
    XCTAssertLessThan(took, roundLimit, "\(label) round \(rounds) took \(took) s", file: file, line: line)
    rounds += 1
  }
  return (rounds, loaded)
}

/// Byte offsets of size fields in a GGUF image, for `Mutator.mutate(fields:)`: the tensor and
/// key-value counts, every metadata value (and an array's length after its element type),
/// every tensor's n_dims, dims, type and data offset.
public func ggufSizeFields(_ bytes: [UInt8], _ file: GGUFFile) -> [Int] {
  var fields = [8, 16]
  for value in file.metadata.keys.compactMap({ ggufValueOffset(of: $0, in: bytes) }) {
    fields += [value, value + 4]
  }
  for t in file.tensors {
    let nDims = t.infoOffset + 8 + t.name.utf8.count
    fields += [nDims] + (0...t.dims.count + 1).map { nDims + 4 + 8 * $0 }
  }
  return fields
}

/// Where `pattern` first occurs in `bytes`.
func firstIndex(of pattern: [UInt8], in bytes: [UInt8]) -> Int? {
  guard let first = pattern.first, bytes.count >= pattern.count else { return nil }
  var i = 0
  while i <= bytes.count - pattern.count {
    if bytes[i] == first && bytes[i..<i + pattern.count].elementsEqual(pattern) { return i }
    i += 1
  }
  return nil
}

/// The value offset of metadata `key` in a GGUF image (after its type), nil when absent.
public func ggufValueOffset(of key: String, in bytes: [UInt8]) -> Int? {
  let pattern = withUnsafeBytes(of: UInt64(key.utf8.count).littleEndian, Array.init) + Array(key.utf8)
  return firstIndex(of: pattern, in: bytes).map { $0 + pattern.count + 4 }
}
