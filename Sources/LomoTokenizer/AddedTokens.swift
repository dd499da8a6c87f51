/// Finds added tokens in raw text, leftmost-longest (as Hugging Face's aho-corasick matcher),
/// with a trie over unicode scalars.
struct AddedTokenMatcher {
  enum Segment {
    case text(Range<Int>)
    case token(Int32)
  }

  /// Trie nodes: children by scalar value, and the index into `tokens` of a token ending here.
  var children: [[UInt32: Int32]] = [[:]]
  var terminal: [Int32] = [-1]
  let tokens: [AddedToken]
  let isEmpty: Bool

  init(_ tokens: [AddedToken]) {
    self.tokens = tokens
    self.isEmpty = tokens.isEmpty
    for (k, t) in tokens.enumerated() {
      var node = 0
      for s in t.content.unicodeScalars {
        if let c = children[node][s.value] {
          node = Int(c)
        } else {
          children.append([:])
          terminal.append(-1)
          children[node][s.value] = Int32(children.count - 1)
          node = children.count - 1
        }
      }
      if node != 0 && terminal[node] < 0 { terminal[node] = Int32(k) }
    }
  }

  /// Calls `body` with the text runs and matched tokens of `text`, in order.
  func scan(_ text: UnsafeBufferPointer<Unicode.Scalar>, parseSpecial: Bool, _ body: (Segment) -> Void) {
    let n = text.count
    var textStart = 0
    var i = 0
    if !isEmpty {
      while i < n {
        var node = 0
        var best = -1
        var bestEnd = i
        var j = i
        while j < n, let c = children[node][text[j].value] {
          node = Int(c)
          j += 1
          let t = Int(terminal[node])
          if t >= 0 && (parseSpecial || !tokens[t].special) {
            best = t
            bestEnd = j
          }
        }
        guard best >= 0 else {
          i += 1
          continue
        }
        var start = i
        var end = bestEnd
        if tokens[best].lstrip {
          while start > textStart && text[start - 1].properties.isWhitespace { start -= 1 }
        }
        if tokens[best].rstrip {
          while end < n && text[end].properties.isWhitespace { end += 1 }
        }
        if textStart < start { body(.text(textStart..<start)) }
        body(.token(tokens[best].id))
        textStart = end
        i = end
      }
    }
    if textStart < n { body(.text(textStart..<n)) }
  }
}
