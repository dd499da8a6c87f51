/// Hand-written matchers for the pre-tokenizer regexes (Swift Regex is slow on Linux). Each
/// `split` walks the alternatives of its pattern in order at each position, as a backtracking
/// regex engine would, and appends the half-open scalar ranges of the pieces.
enum PreTokenize {
  // Character classes: \p{L}, \p{N}, \s, anything else.
  static let letter: UInt8 = 1, number: UInt8 = 2, space: UInt8 = 3, other: UInt8 = 4

  static let asciiClass: [UInt8] = (0..<128).map { v -> UInt8 in
    let s = Unicode.Scalar(UInt8(v))
    if (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v) { return letter }
    if (0x30...0x39).contains(v) { return number }
    if (0x09...0x0D).contains(v) || v == 0x20 { return space }
    _ = s
    return other
  }

  @inline(__always)
  static func classify(_ s: Unicode.Scalar) -> UInt8 {
    if s.value < 128 { return asciiClass[Int(s.value)] }
    let p = s.properties
    switch p.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      return letter
    case .decimalNumber, .letterNumber, .otherNumber:
      return number
    default:
      return p.isWhitespace ? space : other
    }
  }

  /// Splits `text[range]` into pieces; `cls` holds the class of every scalar of `text`.
  static func split(
    _ kind: PreTokenizer, _ text: UnsafeBufferPointer<Unicode.Scalar>, _ cls: UnsafeBufferPointer<UInt8>,
    _ range: Range<Int>, into out: inout [Range<Int>]
  ) {
    switch kind {
    case .none:
      if !range.isEmpty { out.append(range) }
    case .gpt2:
      gpt2(text, cls, range, &out)
    case .smollm:
      // `\p{N}` first: every digit alone; the GPT-2 pattern on the runs between.
      var start = range.lowerBound
      for i in range where cls[i] == number {
        if start < i { gpt2(text, cls, start..<i, &out) }
        out.append(i..<(i + 1))
        start = i + 1
      }
      if start < range.upperBound { gpt2(text, cls, start..<range.upperBound, &out) }
    case .llama3:
      llama3(text, cls, range, maxDigits: 3, &out)
    case .qwen2:
      llama3(text, cls, range, maxDigits: 1, &out)
    }
  }

  /// Length of a contraction ('s 't 're 've 'm 'll 'd) at `i`, or 0.
  @inline(__always)
  static func contraction(_ t: UnsafeBufferPointer<Unicode.Scalar>, _ i: Int, _ end: Int, caseless: Bool) -> Int {
    guard t[i] == "'", i + 1 < end else { return 0 }
    func low(_ s: Unicode.Scalar) -> UInt32 {
      (caseless && s.value >= 0x41 && s.value <= 0x5A) ? s.value + 32 : s.value
    }
    let a = low(t[i + 1])
    if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return 2 }  // s t m d
    if i + 2 < end {
      let b = low(t[i + 2])
      if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { return 3 }  // re ve ll
    }
    return 0
  }

  /// `\s+(?!\S)|\s+` at `i` (a whitespace scalar): the run, less its last scalar when a
  /// non-space follows and the run is longer than one.
  @inline(__always)
  static func whitespaceRun(_ cls: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
    var j = i
    while j < end && cls[j] == space { j += 1 }
    if j == end { return j }
    return j - 1 > i ? j - 1 : j
  }

  static func gpt2(
    _ t: UnsafeBufferPointer<Unicode.Scalar>, _ cls: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
    _ out: inout [Range<Int>]
  ) {
    let end = range.upperBound
    var i = range.lowerBound
    while i < end {
      let c = contraction(t, i, end, caseless: false)
      if c > 0 {
        out.append(i..<(i + c)); i += c; continue
      }
      // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
      var j = i
      if t[j] == " " && j + 1 < end && cls[j + 1] != space { j += 1 }
      let k = cls[j]
      if k != space {
        var e = j + 1
        while e < end && cls[e] == k { e += 1 }
        out.append(i..<e); i = e; continue
      }
      let e = whitespaceRun(cls, i, end)
      out.append(i..<e); i = e
    }
  }

  @inline(__always)
  static func isCRLF(_ s: Unicode.Scalar) -> Bool { s == "\r" || s == "\n" }

  static func llama3(
    _ t: UnsafeBufferPointer<Unicode.Scalar>, _ cls: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
    maxDigits: Int, _ out: inout [Range<Int>]
  ) {
    let end = range.upperBound
    var i = range.lowerBound
    while i < end {
      let c = contraction(t, i, end, caseless: true)
      if c > 0 {
        out.append(i..<(i + c)); i += c; continue
      }
      let k = cls[i]
      // `[^\r\n\p{L}\p{N}]?\p{L}+`
      if k == letter || (k != number && !isCRLF(t[i]) && i + 1 < end && cls[i + 1] == letter) {
        var e = i + 1
        while e < end && cls[e] == letter { e += 1 }
        out.append(i..<e); i = e; continue
      }
      // `\p{N}{1,maxDigits}`
      if k == number {
        var e = i + 1
        while e < end && e - i < maxDigits && cls[e] == number { e += 1 }
        out.append(i..<e); i = e; continue
      }
      // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
      var j = i
      if t[j] == " " && j + 1 < end && cls[j + 1] == other { j += 1 }
      if cls[j] == other {
        var e = j + 1
        while e < end && cls[e] == other { e += 1 }
        while e < end && isCRLF(t[e]) { e += 1 }
        out.append(i..<e); i = e; continue
      }
      // `\s*[\r\n]+`: the whitespace run up to and including its last CR/LF.
      var runEnd = i
      var lastCRLF = -1
      while runEnd < end && cls[runEnd] == space {
        if isCRLF(t[runEnd]) { lastCRLF = runEnd }
        runEnd += 1
      }
      if lastCRLF >= 0 {
        out.append(i..<(lastCRLF + 1)); i = lastCRLF + 1; continue
      }
      // `\s+(?!\S)|\s+`
      let e = whitespaceRun(cls, i, end)
      out.append(i..<e); i = e
    }
  }
}
