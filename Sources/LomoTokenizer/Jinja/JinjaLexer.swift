/// Splits template source into tokens the way Jinja's lexer does with the settings transformers
/// renders chat templates with (`trim_blocks=True, lstrip_blocks=True`):
///
/// - Line endings (`\r\n`, `\r`) become `\n`, and one trailing newline of the source is dropped
///   (Jinja's `keep_trailing_newline=False`).
/// - `{{- … -}}`, `{%- … -%}`, `{#- … -#}`: a `-` strips all whitespace before / after the tag.
/// - trim_blocks: the first newline after a block tag or comment is removed (`+%}` keeps it).
/// - lstrip_blocks: spaces and tabs between the start of a line and a block tag or comment are
///   removed (`{%+` keeps them).
/// - A tag ends at its closing delimiter only outside brackets, so `{{ {'a': 1} }}` works.
struct JinjaLexer {
  /// Templates longer than this (in Unicode scalars) are refused.
  static let maxSourceLength = 4 << 20

  private let s: [Unicode.Scalar]
  private var i = 0
  private var line = 1
  private var tokens: [JinjaToken] = []

  private init(_ source: String) {
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(source.unicodeScalars.count)
    var it = source.unicodeScalars.makeIterator()
    var pending = it.next()
    while let c = pending {
      pending = it.next()
      if c == "\r" {
        out.append("\n")
        if pending == "\n" { pending = it.next() }
      } else {
        out.append(c)
      }
    }
    if out.last == "\n" { out.removeLast() }
    s = out
  }

  /// The tokens of `source`, ending with `.end`.
  static func tokenize(_ source: String) throws(JinjaError) -> [JinjaToken] {
    guard source.unicodeScalars.count <= maxSourceLength else {
      throw JinjaError(.limit, line: 1, "the template is longer than \(maxSourceLength) characters")
    }
    var lexer = JinjaLexer(source)
    try lexer.run()
    return lexer.tokens
  }

  static func isSpace(_ c: Unicode.Scalar) -> Bool {
    c.properties.isWhitespace || (0x1C...0x1F).contains(c.value)
  }

  private func at(_ k: Int) -> Unicode.Scalar? { k < s.count ? s[k] : nil }

  private mutating func advance(to k: Int) {
    while i < k {
      if s[i] == "\n" { line += 1 }
      i += 1
    }
  }

  private mutating func run() throws(JinjaError) {
    var lineStarting = true
    while i < s.count {
      // The next tag opening at or after i.
      var j = i
      while j < s.count, !(s[j] == "{" && [Unicode.Scalar("{"), "%", "#"].contains(at(j + 1) ?? " ")) { j += 1 }
      var text = s[i..<j]
      let textLine = line
      let opener = at(j + 1)
      let sign = at(j + 2)
      if j < s.count {
        if sign == "-" {
          while let last = text.last, Self.isSpace(last) { text = text.dropLast() }
        } else if sign != "+" && opener != "{" {
          // lstrip_blocks: only spaces/tabs between the line start and the tag.
          let lineStart = text.lastIndex(of: "\n").map { $0 + 1 } ?? text.startIndex
          if (lineStart > text.startIndex || lineStarting) && lineStart < text.endIndex
            && text[lineStart...].allSatisfy({ Self.isSpace($0) && $0 != "\n" })
          {
            text = text[..<lineStart]
          }
        }
      }
      if !text.isEmpty { tokens.append(JinjaToken(kind: .text(String(String.UnicodeScalarView(text))), line: textLine)) }
      advance(to: j)
      guard j < s.count, let opener else { break }
      let tagLine = line
      advance(to: j + 2 + (sign == "-" || sign == "+" ? 1 : 0))
      switch opener {
      case "#":
        try skipComment(from: tagLine)
      case "{":
        tokens.append(JinjaToken(kind: .variableBegin, line: tagLine))
        try lexInside(closer: "}", tagLine: tagLine)
        tokens.append(JinjaToken(kind: .variableEnd, line: line))
      default:
        tokens.append(JinjaToken(kind: .blockBegin, line: tagLine))
        try lexInside(closer: "%", tagLine: tagLine)
        tokens.append(JinjaToken(kind: .blockEnd, line: line))
      }
      lineStarting = finishTag(isBlock: opener != "{")
    }
    tokens.append(JinjaToken(kind: .end, line: line))
  }

  /// Consumes a tag's closing delimiter, which `i` is at: `-` strips the whitespace after it,
  /// a block or comment end drops one newline (trim_blocks) unless written `+%}`. Returns
  /// whether what was consumed ended a line (for lstrip_blocks).
  private mutating func finishTag(isBlock: Bool) -> Bool {
    let sign = s[i]
    let start = i
    advance(to: i + (sign == "-" || sign == "+" ? 3 : 2))
    if sign == "-" {
      var k = i
      while k < s.count, Self.isSpace(s[k]) { k += 1 }
      advance(to: k)
    } else if isBlock && sign != "+" && at(i) == "\n" {
      advance(to: i + 1)
    }
    return i > start && s[i - 1] == "\n"
  }

  private mutating func skipComment(from tagLine: Int) throws(JinjaError) {
    var k = i
    while k + 1 < s.count, !(s[k] == "#" && s[k + 1] == "}") { k += 1 }
    guard k + 1 < s.count else { throw JinjaError(.syntax, line: tagLine, "unterminated comment: '{#' without '#}'") }
    let end = k > i && s[k - 1] == "-" ? k - 1 : k
    advance(to: end)
  }

  /// Expression tokens until the tag's closing delimiter (`}}` or `%}`, optionally with a
  /// leading `-` or `+`) outside brackets; `i` is left at the closing delimiter.
  private mutating func lexInside(closer: Unicode.Scalar, tagLine: Int) throws(JinjaError) {
    var open: [String] = []
    let what = closer == "}" ? "'{{' without '}}'" : "'{%' without '%}'"
    while true {
      while i < s.count, Self.isSpace(s[i]) { advance(to: i + 1) }
      guard i < s.count else { throw JinjaError(.syntax, line: tagLine, "unterminated tag: \(what)") }
      let c = s[i]
      if open.isEmpty {
        if c == closer && at(i + 1) == "}" { return }
        if (c == "-" || (c == "+" && closer == "%")) && at(i + 1) == closer && at(i + 2) == "}" { return }
      }
      if c == "{" && (at(i + 1) == "{" || at(i + 1) == "%") && open.isEmpty {
        throw JinjaError(.syntax, line: line, "a tag opens inside another tag (\(what))")
      }
      let tokenLine = line
      if c == "'" || c == "\"" {
        tokens.append(JinjaToken(kind: .string(try lexString(quote: c)), line: tokenLine))
      } else if c.properties.numericType == .decimal && c.isASCII {
        tokens.append(JinjaToken(kind: lexNumber(), line: tokenLine))
      } else if c == "_" || c.properties.isAlphabetic {
        var k = i
        while k < s.count, s[k] == "_" || s[k].properties.isAlphabetic || (s[k].isASCII && s[k].properties.numericType == .decimal) { k += 1 }
        tokens.append(JinjaToken(kind: .name(String(String.UnicodeScalarView(s[i..<k]))), line: tokenLine))
        advance(to: k)
      } else {
        let op = try lexOperator()
        let pairs = ["(": ")", "[": "]", "{": "}"]
        if let close = pairs[op] { open.append(close) }
        if pairs.values.contains(op) {
          guard let expected = open.popLast() else { throw JinjaError(.syntax, line: tokenLine, "unexpected '\(op)'") }
          guard expected == op else { throw JinjaError(.syntax, line: tokenLine, "unexpected '\(op)', expected '\(expected)'") }
        }
        tokens.append(JinjaToken(kind: .op(op), line: tokenLine))
      }
    }
  }

  private mutating func lexOperator() throws(JinjaError) -> String {
    let two = at(i + 1).map { String(s[i]) + String($0) }
    if let two, ["//", "**", "==", "!=", "<=", ">="].contains(two) {
      advance(to: i + 2)
      return two
    }
    let one = String(s[i])
    guard ["+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}"].contains(one) else {
      throw JinjaError(.syntax, line: line, "unexpected character \(one.debugDescription) in a tag")
    }
    advance(to: i + 1)
    return one
  }

  private mutating func lexNumber() -> JinjaToken.Kind {
    func digits(_ k: inout Int) {
      while k < s.count, s[k].isASCII, s[k].properties.numericType == .decimal || (s[k] == "_" && k + 1 < s.count && s[k + 1].isASCII && s[k + 1].properties.numericType == .decimal) { k += 1 }
    }
    var k = i
    digits(&k)
    var isFloat = false
    if at(k) == ".", let d = at(k + 1), d.isASCII, d.properties.numericType == .decimal {
      isFloat = true
      k += 1
      digits(&k)
    }
    if at(k) == "e" || at(k) == "E" {
      var e = k + 1
      if at(e) == "+" || at(e) == "-" { e += 1 }
      if let d = at(e), d.isASCII, d.properties.numericType == .decimal {
        isFloat = true
        k = e
        digits(&k)
      }
    }
    let text = String(String.UnicodeScalarView(s[i..<k])).replacingOccurrences(of: "_", with: "")
    advance(to: k)
    if !isFloat, let v = Int(text) { return .integer(v) }
    return .float(Double(text) ?? .infinity)
  }

  /// A quoted string literal with Python's escapes (`\n \t \r \\ \' \" \xNN \uNNNN \UNNNNNNNN`);
  /// an unknown escape keeps its backslash, as Python does.
  private mutating func lexString(quote: Unicode.Scalar) throws(JinjaError) -> String {
    let startLine = line
    var out = String.UnicodeScalarView()
    var k = i + 1
    while true {
      guard k < s.count else { throw JinjaError(.syntax, line: startLine, "unterminated string literal") }
      let c = s[k]
      if c == quote { break }
      if c == "\\", k + 1 < s.count {
        let e = s[k + 1]
        k += 2
        switch e {
        case "n": out.append("\n")
        case "t": out.append("\t")
        case "r": out.append("\r")
        case "0": out.append("\0")
        case "a": out.append("\u{07}")
        case "b": out.append("\u{08}")
        case "f": out.append("\u{0C}")
        case "v": out.append("\u{0B}")
        case "\\", "'", "\"": out.append(e)
        case "\n": break
        case "x", "u", "U":
          let width = e == "x" ? 2 : e == "u" ? 4 : 8
          let hex = k + width <= s.count ? String(String.UnicodeScalarView(s[k..<(k + width)])) : ""
          guard hex.count == width, let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
            throw JinjaError(.syntax, line: line, "invalid \\\(e) escape in a string literal")
          }
          out.append(scalar)
          k += width
        default:
          out.append("\\")
          out.append(e)
        }
      } else {
        out.append(c)
        k += 1
      }
    }
    advance(to: k + 1)
    return String(out)
  }
}
