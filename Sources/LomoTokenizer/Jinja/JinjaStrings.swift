/// Python's `str` operations on Unicode scalars (code points), the unit Python strings index,
/// slice, search and compare by; Swift's `String` would compare canonically equivalent text as
/// equal and index grapheme clusters.
enum JinjaStrings {
  typealias Scalars = [Unicode.Scalar]

  static func scalars(_ s: String) -> Scalars { Array(s.unicodeScalars) }

  static func string<C: Collection>(_ c: C) -> String where C.Element == Unicode.Scalar {
    var v = String.UnicodeScalarView()
    v.append(contentsOf: c)
    return String(v)
  }

  /// `str.strip/lstrip/rstrip(chars)`: whitespace when `chars` is nil.
  static func strip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
    let set = chars.map { Set($0.unicodeScalars) }
    func strippable(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? JinjaLexer.isSpace(c) }
    let u = scalars(s)
    var a = 0
    var b = u.count
    if leading { while a < b && strippable(u[a]) { a += 1 } }
    if trailing { while b > a && strippable(u[b - 1]) { b -= 1 } }
    return string(u[a..<b])
  }

  /// Start offsets of the non-overlapping occurrences of `needle` (non-empty) in `hay`.
  static func occurrences(_ hay: Scalars, _ needle: Scalars, limit: Int = .max) -> [Int] {
    var out: [Int] = []
    var i = 0
    while out.count < limit, i + needle.count <= hay.count {
      if hay[i..<(i + needle.count)].elementsEqual(needle) {
        out.append(i)
        i += needle.count
      } else {
        i += 1
      }
    }
    return out
  }

  /// `str.split(sep, maxsplit)`: on runs of whitespace (dropping empty parts) when `sep` is nil.
  static func split(_ s: String, _ sep: String?, maxSplit: Int) -> [String] {
    let u = scalars(s)
    let limit = maxSplit < 0 ? Int.max : maxSplit
    guard let sep else {
      var parts: [String] = []
      var i = 0
      while i < u.count {
        while i < u.count && JinjaLexer.isSpace(u[i]) { i += 1 }
        guard i < u.count else { break }
        if parts.count == limit {
          parts.append(string(u[i...]))
          break
        }
        var j = i
        while j < u.count && !JinjaLexer.isSpace(u[j]) { j += 1 }
        parts.append(string(u[i..<j]))
        i = j
      }
      return parts
    }
    let n = scalars(sep)
    var parts: [String] = []
    var start = 0
    for at in occurrences(u, n, limit: limit) {
      parts.append(string(u[start..<at]))
      start = at + n.count
    }
    parts.append(string(u[start...]))
    return parts
  }

  /// `str.replace(old, new, count)`; an empty `old` inserts `new` around every code point.
  static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
    let u = scalars(s)
    let o = scalars(old)
    let n = scalars(new)
    let limit = count < 0 ? Int.max : count
    var out: Scalars = []
    if o.isEmpty {
      var used = 0
      for c in u {
        if used < limit { out += n; used += 1 }
        out.append(c)
      }
      if used < limit { out += n }
      return string(out)
    }
    var start = 0
    for at in occurrences(u, o, limit: limit) {
      out += u[start..<at]
      out += n
      start = at + o.count
    }
    out += u[start...]
    return string(out)
  }

  static func hasPrefix(_ s: String, _ p: String) -> Bool { s.unicodeScalars.starts(with: p.unicodeScalars) }

  static func hasSuffix(_ s: String, _ p: String) -> Bool {
    s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed())
  }

  /// `str.title()`: a cased character after an uncased one is upper-cased, others lower-cased.
  static func title(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for c in s.unicodeScalars {
      let ch = String(c)
      out += previousCased ? ch.lowercased() : ch.uppercased()
      previousCased = c.properties.isCased
    }
    return out
  }

  /// `str.capitalize()`: the first character upper-cased, the rest lower-cased.
  static func capitalize(_ s: String) -> String {
    guard let first = s.unicodeScalars.first else { return s }
    return String(first).uppercased() + string(s.unicodeScalars.dropFirst()).lowercased()
  }
}
