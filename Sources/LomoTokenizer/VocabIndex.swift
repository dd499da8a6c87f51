/// Token ids by the exact UTF-8 bytes of their spelling.
///
/// Swift `String` equality and hashing follow Unicode canonical equivalence: U+037E GREEK
/// QUESTION MARK equals ";", "e\u{301}" equals "é". A vocabulary holds distinct tokens for such
/// spellings (Gemma 3 has both ";" and U+037E), so a `[String: Int32]` silently merges them.
/// Every lookup here compares bytes.
///
/// All spellings live in one flat buffer with an open-addressing table of ids (linear probing,
/// seeded `Hasher`; each slot keeps 32 hash bits beside the id, so a probe that misses rarely
/// touches the spellings), so building it costs no allocation per token, and lookups take byte slices:
/// the derived SentencePiece merges probe every prefix and suffix of 262k tokens without
/// building a single string. When two ids share a spelling the later one wins, as in llama.cpp's
/// `token_to_id` and Hugging Face's `{token: id}` conversion. Empty spellings (gaps in a
/// tokenizer.json vocabulary) are not indexed.
struct VocabIndex: Sendable {
  /// Spellings of ids 0..<count, concatenated.
  let storage: [UInt8]
  /// `storage[offsets[i]..<offsets[i + 1]]` spells id i.
  let offsets: [Int]
  /// High 32 bits of the hash << 32 | id, by hash; `empty` marks a free slot. The count is a
  /// power of two, at least twice the ids.
  private let slots: [UInt64]
  private static let empty = UInt64.max

  @inline(__always)
  private static func slot(_ h: Int, _ id: Int) -> UInt64 { UInt64(UInt(bitPattern: h) >> 32) << 32 | UInt64(id) }

  var count: Int { offsets.count - 1 }

  init(_ tokens: [String]) {
    var storage: [UInt8] = []
    storage.reserveCapacity(tokens.count * 8)
    var offsets: [Int] = [0]
    offsets.reserveCapacity(tokens.count + 1)
    for t in tokens {
      storage.append(contentsOf: t.utf8)
      offsets.append(storage.count)
    }
    var capacity = 16
    while capacity < 2 * tokens.count { capacity <<= 1 }
    let mask = capacity - 1
    var slots = [UInt64](repeating: VocabIndex.empty, count: capacity)
    storage.withUnsafeBytes { all in
      slots.withUnsafeMutableBufferPointer { slot in
        for i in 0..<tokens.count where offsets[i] < offsets[i + 1] {
          let key = UnsafeRawBufferPointer(rebasing: all[offsets[i]..<offsets[i + 1]])
          let h = VocabIndex.hash(key)
          let entry = VocabIndex.slot(h, i)
          var s = h & mask
          while true {
            let cur = slot[s]
            if cur == VocabIndex.empty {
              slot[s] = entry
              break
            }
            let j = Int(cur & 0xFFFF_FFFF)
            if cur >> 32 == entry >> 32, UnsafeRawBufferPointer(rebasing: all[offsets[j]..<offsets[j + 1]]).elementsEqual(key) {
              slot[s] = entry
              break
            }
            s = (s + 1) & mask
          }
        }
      }
    }
    self.storage = storage
    self.offsets = offsets
    self.slots = slots
  }

  @inline(__always)
  static func hash(_ key: UnsafeRawBufferPointer) -> Int {
    var h = Hasher()
    h.combine(bytes: key)
    return h.finalize()
  }

  /// The id spelled by `key`, or nil.
  func id(_ key: UnsafeRawBufferPointer) -> Int32? {
    guard !key.isEmpty else { return nil }
    let mask = slots.count - 1
    return storage.withUnsafeBytes { all in
      slots.withUnsafeBufferPointer { slot in
        let h = VocabIndex.hash(key)
        let tag = VocabIndex.slot(h, 0) >> 32
        var s = h & mask
        while true {
          let cur = slot[s]
          if cur == VocabIndex.empty { return nil }
          let j = Int(cur & 0xFFFF_FFFF)
          if cur >> 32 == tag, UnsafeRawBufferPointer(rebasing: all[offsets[j]..<offsets[j + 1]]).elementsEqual(key) {
            return Int32(j)
          }
          s = (s + 1) & mask
        }
      }
    }
  }

  func id(_ bytes: [UInt8]) -> Int32? { bytes.withUnsafeBytes { id($0) } }

  func id(_ bytes: ArraySlice<UInt8>) -> Int32? { bytes.withUnsafeBytes { id($0) } }

  func id(_ token: String) -> Int32? {
    var t = token
    return t.withUTF8 { id(UnsafeRawBufferPointer($0)) }
  }

  /// Calls `body` with the spelling of `id` (which must be in 0..<count).
  func withSpelling<R>(_ id: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[offsets[id]..<offsets[id + 1]])) }
  }
}
