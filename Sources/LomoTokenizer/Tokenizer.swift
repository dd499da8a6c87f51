import Foundation

/// A BPE tokenizer: GPT-2 byte-level (SmolLM2, LLaMA 3, Qwen2) or SentencePiece-style with byte
/// fallback (LLaMA 2, Gemma), reproducing Hugging Face `tokenizers` ids.
///
/// Encoding: added tokens are matched whole in the raw text first (leftmost-longest; special
/// ones only when `parseSpecial`), then each run of text between them is pre-tokenized and each
/// piece merged by rank. Thread-safe: the word cache is guarded by a lock.
public final class Tokenizer: @unchecked Sendable {
  public let spec: TokenizerSpec
  /// Token strings by id, as the vocabulary spells them.
  public let tokens: [String]
  public var vocabSize: Int { tokens.count }
  public var bosID: Int32? { spec.bosID }
  public var eosID: Int32? { spec.eosID }
  public var unkID: Int32? { spec.unkID }
  public var padID: Int32? { spec.padID }

  /// Ids by exact UTF-8 spelling (never by `String` equality: see `VocabIndex`).
  let vocab: VocabIndex
  let merges: MergeTable
  let added: AddedTokenMatcher
  let specialIDs: Set<Int32>
  /// Byte-level: the id of each byte's alphabet character (-1 if absent).
  let byteSymbol: [Int32]
  /// SentencePiece: the id of each `<0xXX>` token (-1 if absent).
  let byteFallbackID: [Int32]
  /// SentencePiece: ids of single-scalar tokens.
  let scalarID: [UInt32: Int32]

  let cacheLock = NSLock()
  var cache: [[UInt8]: [Int32]] = [:]
  static let cacheLimit = 100_000

  /// Limits on untrusted sizes.
  public static let maxVocabulary = 4_000_000
  public static let maxMerges = 8_000_000
  public static let maxTokenLength = 4096

  public init(_ spec: TokenizerSpec) throws {
    let n = spec.tokens.count
    guard n > 0 else { throw TokenizerError.invalidVocabulary("no tokens") }
    guard n <= Tokenizer.maxVocabulary else {
      throw TokenizerError.tooLarge(what: "tokens", count: n, limit: Tokenizer.maxVocabulary)
    }
    if let s = spec.scores, s.count != n { throw TokenizerError.lengthMismatch(what: "scores", expected: n, got: s.count) }
    if let t = spec.types, t.count != n { throw TokenizerError.lengthMismatch(what: "token types", expected: n, got: t.count) }
    for (name, id) in [("bos", spec.bosID), ("eos", spec.eosID), ("unk", spec.unkID), ("pad", spec.padID)] {
      if let id, id < 0 || Int(id) >= n { throw TokenizerError.tokenIdOutOfRange(name: name, id: Int(id), vocabSize: n) }
    }
    if spec.addBOS && spec.bosID == nil { throw TokenizerError.invalidVocabulary("addBOS without a bos id") }
    if spec.addEOS && spec.eosID == nil { throw TokenizerError.invalidVocabulary("addEOS without an eos id") }
    for a in spec.addedTokens {
      if a.id < 0 || Int(a.id) >= n {
        throw TokenizerError.tokenIdOutOfRange(name: "added token \(a.content.debugDescription)", id: Int(a.id), vocabSize: n)
      }
    }
    self.spec = spec
    self.tokens = spec.tokens
    let vocab = VocabIndex(spec.tokens)
    self.vocab = vocab
    self.added = AddedTokenMatcher(spec.addedTokens)
    self.specialIDs = Set(spec.addedTokens.filter(\.special).map(\.id))

    var byteSymbol = [Int32](repeating: -1, count: 256)
    var byteFallbackID = [Int32](repeating: -1, count: 256)
    var scalarID: [UInt32: Int32] = [:]
    switch spec.model {
    case .bytePairGPT2:
      for b in 0..<256 { byteSymbol[b] = vocab.id(ByteLevel.utf8Spelling[b]) ?? -1 }
    case .sentencePieceBPE:
      let hex = Array("0123456789ABCDEF")
      for b in 0..<256 { byteFallbackID[b] = vocab.id("<0x\(hex[b >> 4])\(hex[b & 15])>") ?? -1 }
      for i in 0..<n {
        vocab.withSpelling(i) { t in
          if let s = Tokenizer.singleScalar(t), vocab.id(t) == Int32(i) { scalarID[s.value] = Int32(i) }
        }
      }
    }
    self.byteSymbol = byteSymbol
    self.byteFallbackID = byteFallbackID
    self.scalarID = scalarID

    if let pairs = spec.mergePairs {
      var table = try Tokenizer.emptyMergeTable(count: pairs.count)
      var scratch: [UInt8] = []
      for (rank, p) in pairs.enumerated() {
        var l = p.left, r = p.right
        try l.withUTF8 { lb in
          try r.withUTF8 { rb in
            try table.insert(
              rank: rank, UnsafeRawBufferPointer(lb), UnsafeRawBufferPointer(rb), vocab: vocab, scratch: &scratch,
              merge: p.left + " " + p.right)
          }
        }
      }
      self.merges = table
    } else if let list = spec.merges {
      var table = try Tokenizer.emptyMergeTable(count: list.count)
      var scratch: [UInt8] = []
      for (rank, m) in list.enumerated() {
        var spelling = m
        // Split on the UTF-8 space byte: as Characters, a space before a combining mark ("ह ै")
        // would be one grapheme with it.
        try spelling.withUTF8 { u in
          let raw = UnsafeRawBufferPointer(u)
          guard let sp = raw.firstIndex(of: 0x20), raw[(sp + 1)...].firstIndex(of: 0x20) == nil else {
            throw TokenizerError.invalidMerge(index: rank, merge: m, reason: "not of the form \"left right\"")
          }
          try table.insert(
            rank: rank, UnsafeRawBufferPointer(rebasing: raw[..<sp]), UnsafeRawBufferPointer(rebasing: raw[(sp + 1)...]),
            vocab: vocab, scratch: &scratch, merge: m)
        }
      }
      self.merges = table
    } else if spec.model == .sentencePieceBPE {
      self.merges = Tokenizer.derivedMerges(spec, vocab: vocab)
    } else {
      throw TokenizerError.invalidVocabulary("a byte-level BPE vocabulary needs merges")
    }
  }

  static func emptyMergeTable(count: Int) throws -> MergeTable {
    guard count <= maxMerges else { throw TokenizerError.tooLarge(what: "merges", count: count, limit: maxMerges) }
    var table = MergeTable()
    table.table.reserveCapacity(count)
    return table
  }

  /// The scalar of a spelling that is exactly one valid UTF-8 scalar, else nil.
  static func singleScalar(_ bytes: UnsafeRawBufferPointer) -> Unicode.Scalar? {
    guard let lead = bytes.first, bytes.count == utf8Length(lead) else { return nil }
    var it = bytes.makeIterator()
    var dec = UTF8()
    if case .scalarValue(let s) = dec.decode(&it) { return s }
    return nil
  }

  /// The length of the UTF-8 sequence `lead` starts (0 for a continuation or invalid byte).
  @inline(__always)
  static func utf8Length(_ lead: UInt8) -> Int {
    switch lead {
    case 0..<0x80: 1
    case 0xC0..<0xE0: 2
    case 0xE0..<0xF0: 3
    case 0xF0..<0xF8: 4
    default: 0
    }
  }

  /// SentencePiece merges implied by the vocabulary, ranked as Hugging Face's `generate_merges`:
  /// every split of a token into two vocabulary tokens, best merged token first (by score or by
  /// id), then longer left part, then longer right part. Parts are probed as byte slices of the
  /// token's spelling at scalar boundaries.
  static func derivedMerges(_ spec: TokenizerSpec, vocab: VocabIndex) -> MergeTable {
    /// `order`: the merged token's key (descending), then left and right lengths (descending),
    /// packed so that ascending `(order, seq)` is the rank order.
    struct Candidate { var order: UInt64; var seq: Int32; var l: Int32; var r: Int32; var id: Int32 }
    var cands: [Candidate] = []
    var local: [Candidate] = []
    var starts: [Int] = []
    var seq: Int32 = 0
    let scores = spec.scores
    for i in 0..<vocab.count {
      vocab.withSpelling(i) { t in
        guard t.count >= 2, vocab.id(t) == Int32(i) else { return }  // too short, or a duplicate spelling
        starts.removeAll(keepingCapacity: true)
        for k in 0..<t.count where t[k] & 0xC0 != 0x80 { starts.append(k) }
        let scalars = starts.count
        if scalars < 2 || scalars > maxTokenLength { return }
        let key: Float =
          switch spec.mergeOrder {
          case .byScore: scores?[i] ?? -Float(i)
          case .byTokenIndex: -Float(i)
          }
        // Float bits made monotone as unsigned, then inverted for descending order; NaN scores
        // sort as the float bits say (a NaN score is a corrupt file, not a crash).
        let bits = key.bitPattern
        let monotone = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        let keyOrder = UInt64(~monotone) << 32
        local.removeAll(keepingCapacity: true)
        for k in 1..<scalars {
          let cut = starts[k]
          guard let li = vocab.id(UnsafeRawBufferPointer(rebasing: t[..<cut])),
            let ri = vocab.id(UnsafeRawBufferPointer(rebasing: t[cut...]))
          else { continue }
          let lens = UInt64(0xFFFF - k) << 16 | UInt64(0xFFFF - (scalars - k))
          local.append(Candidate(order: keyOrder | lens, seq: 0, l: li, r: ri, id: Int32(i)))
        }
        local.sort { ($0.l, $0.r) < ($1.l, $1.r) }
        for var c in local {
          c.seq = seq
          seq += 1
          cands.append(c)
        }
      }
    }
    cands.sort { ($0.order, $0.seq) < ($1.order, $1.seq) }
    var table = MergeTable()
    table.table.reserveCapacity(cands.count)
    for (rank, c) in cands.enumerated() { table.insert(c.l, c.r, rank: UInt32(rank), id: c.id) }
    return table
  }

  // MARK: - Lookup

  /// The token string of `id`, or nil outside the vocabulary.
  public func token(for id: Int32) -> String? {
    id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
  }

  /// The id of a token string (added tokens included), or nil.
  public func id(for token: String) -> Int32? { vocab.id(token) }

  public func isSpecial(_ id: Int32) -> Bool { specialIDs.contains(id) }

  // MARK: - Encoding

  /// Token ids of `text`. `addSpecial` adds BOS/EOS as the spec says; `parseSpecial` lets
  /// special tokens written in the text ("<|im_start|>") match as themselves (HF's default).
  public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true) -> [Int32] {
    var out: [Int32] = []
    if addSpecial && spec.addBOS, let b = spec.bosID { out.append(b) }
    let scalars = ContiguousArray(text.unicodeScalars)
    scalars.withUnsafeBufferPointer { buf in
      var pieces: [Range<Int>] = []
      added.scan(buf, parseSpecial: parseSpecial) { segment in
        switch segment {
        case .text(let range) where spec.normalizesNFC && buf[range].contains(where: { $0.value >= 0x300 }):
          // Below U+0300 (no combining marks) every text is already NFC.
          let normalized = ContiguousArray(String(String.UnicodeScalarView(buf[range])).precomposedStringWithCanonicalMapping.unicodeScalars)
          normalized.withUnsafeBufferPointer {
            encodeSegment($0, 0..<$0.count, isFirst: range.lowerBound == 0, pieces: &pieces, into: &out)
          }
        case .text(let range): encodeSegment(buf, range, isFirst: range.lowerBound == 0, pieces: &pieces, into: &out)
        case .token(let id): out.append(id)
        }
      }
    }
    if addSpecial && spec.addEOS, let e = spec.eosID { out.append(e) }
    return out
  }

  func encodeSegment(
    _ text: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, isFirst: Bool, pieces: inout [Range<Int>],
    into out: inout [Int32]
  ) {
    switch spec.model {
    case .bytePairGPT2:
      var cls = [UInt8](repeating: 0, count: range.count)
      for (k, i) in range.enumerated() { cls[k] = PreTokenize.classify(text[i]) }
      pieces.removeAll(keepingCapacity: true)
      let local = UnsafeBufferPointer(rebasing: text[range])
      cls.withUnsafeBufferPointer { c in
        PreTokenize.split(spec.preTokenizer, local, c, 0..<range.count, into: &pieces)
      }
      var bytes: [UInt8] = []
      for p in pieces {
        bytes.removeAll(keepingCapacity: true)
        for i in p { bytes.append(contentsOf: UTF8.encode(local[i])!) }
        out.append(contentsOf: wordIDs(bytes))
      }
    case .sentencePieceBPE:
      // Normalise: spaces to "▁", with the prefix the spec asks for; then the whole run is one word.
      var word: [Unicode.Scalar] = []
      word.reserveCapacity(range.count + 1)
      if spec.spacePrefix == .always || (spec.spacePrefix == .first && isFirst) { word.append("\u{2581}") }
      for i in range { word.append(text[i] == " " ? "\u{2581}" : text[i]) }
      out.append(contentsOf: spmWord(word))
    }
  }

  /// Byte-level BPE of one pre-tokenized piece, through the cache.
  func wordIDs(_ bytes: [UInt8]) -> [Int32] {
    cacheLock.lock()
    let hit = cache[bytes]
    cacheLock.unlock()
    if let hit { return hit }
    var ids: [Int32]
    if spec.ignoreMerges, let whole = vocab.id(bytes.flatMap { ByteLevel.utf8Spelling[Int($0)] }) {
      ids = [whole]
    } else {
      ids = []
      ids.reserveCapacity(bytes.count)
      for b in bytes {
        let id = byteSymbol[Int(b)]
        if id >= 0 { ids.append(id) } else if let u = spec.unkID { ids.append(u) }
      }
      merges.merge(&ids)
    }
    cacheLock.lock()
    if cache.count >= Tokenizer.cacheLimit { cache.removeAll(keepingCapacity: true) }
    cache[bytes] = ids
    cacheLock.unlock()
    return ids
  }

  /// SentencePiece BPE of one normalised word: scalars to ids (byte fallback, then unknown), merged.
  func spmWord(_ word: [Unicode.Scalar]) -> [Int32] {
    var ids: [Int32] = []
    ids.reserveCapacity(word.count)
    var lastWasUnk = false
    for s in word {
      if let id = scalarID[s.value] {
        ids.append(id)
        lastWasUnk = false
        continue
      }
      if spec.byteFallback {
        let utf8 = Array(UTF8.encode(s)!)
        if utf8.allSatisfy({ byteFallbackID[Int($0)] >= 0 }) {
          for b in utf8 { ids.append(byteFallbackID[Int(b)]) }
          lastWasUnk = false
          continue
        }
      }
      if let u = spec.unkID {
        if !(spec.fuseUnknown && lastWasUnk) { ids.append(u) }
        lastWasUnk = true
      }
    }
    merges.merge(&ids)
    return ids
  }

  // MARK: - Decoding

  /// The text of `ids`. Byte-level: alphabet characters back to bytes. SentencePiece: "▁" to
  /// space, runs of `<0xXX>` tokens to their bytes (U+FFFD per byte if not valid UTF-8), and
  /// the one leading space the prefix added removed. Ids outside the vocabulary are skipped.
  public func decode(_ ids: [Int32], skipSpecial: Bool = false) -> String {
    switch spec.model {
    case .bytePairGPT2:
      var bytes: [UInt8] = []
      for id in ids {
        guard let t = token(for: id), !(skipSpecial && specialIDs.contains(id)) else { continue }
        ByteLevel.decode(token: t, into: &bytes)
      }
      return String(decoding: bytes, as: UTF8.self)
    case .sentencePieceBPE:
      var out = ""
      var pending: [UInt8] = []
      func flush() {
        guard !pending.isEmpty else { return }
        if let s = String(validating: pending, as: UTF8.self) {
          out += s
        } else {
          out += String(repeating: "\u{FFFD}", count: pending.count)
        }
        pending.removeAll()
      }
      for id in ids {
        guard let t = token(for: id), !(skipSpecial && specialIDs.contains(id)) else { continue }
        if let b = Tokenizer.byteToken(t) {
          pending.append(b)
          continue
        }
        flush()
        out += t.replacingOccurrences(of: "\u{2581}", with: " ")
      }
      flush()
      // By scalar: `hasPrefix(" ")` is false when a combining mark follows the space.
      if spec.stripDecodedPrefixSpace && out.unicodeScalars.first == " " { out.unicodeScalars.removeFirst() }
      return out
    }
  }

  /// The byte of a `<0xXX>` token.
  static func byteToken(_ t: String) -> UInt8? {
    let u = Array(t.utf8)
    guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
    return UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16)
  }
}
