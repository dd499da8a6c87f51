import LomoCore

/// A bounds-checked little-endian cursor over a file's bytes. Every read checks the remaining
/// length first and throws `GGUFError.truncated` naming the field; nothing is allocated from a
/// length before that length has been checked against the bytes that remain.
struct GGUFByteReader {
  let base: UnsafeRawPointer
  let count: Int
  let path: String
  private(set) var offset = 0

  init(_ bytes: MappedFile, path: String) {
    base = bytes.base
    count = bytes.count
    self.path = path
  }

  var remaining: Int { count - offset }

  /// Throws unless `n` more bytes remain for `what`.
  func require(_ n: UInt64, _ what: @autoclosure () -> String) throws(GGUFError) {
    guard n <= UInt64(remaining) else {
      throw .truncated(path: path, offset: offset, what: what(), needed: n, available: remaining)
    }
  }

  mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String)
    throws(GGUFError) -> T
  {
    try require(UInt64(MemoryLayout<T>.size), what())
    let v = base.loadUnaligned(fromByteOffset: offset, as: T.self)
    offset += MemoryLayout<T>.size
    return T(littleEndian: v)
  }

  /// A length-prefixed (uint64) string, decoded as UTF-8 with invalid sequences repaired.
  mutating func string(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
    let start = offset
    let n = try read(UInt64.self, "length of \(what())")
    guard n <= UInt64(remaining) else {
      offset = start
      throw .truncated(
        path: path, offset: start, what: "\(what()) of length \(n)", needed: n,
        available: remaining - 8)
    }
    let bytes = UnsafeRawBufferPointer(start: base + offset, count: Int(n))
    offset += Int(n)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Moves to `newOffset`, which must lie within the bytes (used for alignment padding).
  mutating func seek(to newOffset: Int) {
    precondition(newOffset >= 0 && newOffset <= count, "seek past end")
    offset = newOffset
  }
}
