/// A strict RFC 8259 parser over UTF-8 bytes, for untrusted input: nesting is limited, strings
/// must be valid UTF-8 with paired surrogate escapes, nothing may follow the value, and every
/// error is a `JSONError.Problem.syntax` naming the byte offset. Duplicate keys are kept (the
/// last wins on lookup, see `JSONObject`).
struct JSONParser {
  static let maxDepth = 128

  private let b: UnsafeRawBufferPointer
  private var i = 0
  private var depth = 0
  private var scratch: [UInt8] = []

  private init(_ b: UnsafeRawBufferPointer) { self.b = b }

  static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
    var p = JSONParser(bytes)
    p.skipSpace()
    let v = try p.value()
    p.skipSpace()
    guard p.i == bytes.count else { throw p.error("trailing characters") }
    return v
  }

  private func error(_ what: String) -> JSONError {
    JSONError(path: "", .syntax(what, byteOffset: i))
  }

  private mutating func skipSpace() {
    while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
  }

  private mutating func expect(_ c: UInt8) throws(JSONError) {
    guard i < b.count, b[i] == c else { throw error("expected '\(Character(Unicode.Scalar(c)))'") }
    i += 1
  }

  private mutating func literal(_ word: StaticString, _ v: JSONValue) throws(JSONError) -> JSONValue {
    let n = word.utf8CodeUnitCount
    guard i + n <= b.count, UnsafeRawBufferPointer(rebasing: b[i..<i + n]).elementsEqual(
      UnsafeRawBufferPointer(start: word.utf8Start, count: n))
    else { throw error("invalid literal") }
    i += n
    return v
  }

  private mutating func value() throws(JSONError) -> JSONValue {
    guard i < b.count else { throw error("unexpected end of input") }
    switch b[i] {
    case UInt8(ascii: "{"): return try object()
    case UInt8(ascii: "["): return try array()
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
    default: throw error("unexpected byte 0x\(String(b[i], radix: 16))")
    }
  }

  private mutating func nest() throws(JSONError) {
    depth += 1
    guard depth <= JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth)") }
    i += 1
    skipSpace()
  }

  private mutating func object() throws(JSONError) -> JSONValue {
    try nest()
    var members: [(key: String, value: JSONValue)] = []
    if i < b.count, b[i] == UInt8(ascii: "}") {
      i += 1
    } else {
      while true {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
        let k = try string()
        skipSpace()
        try expect(UInt8(ascii: ":"))
        skipSpace()
        members.append((k, try value()))
        skipSpace()
        guard i < b.count else { throw error("unterminated object") }
        if b[i] == UInt8(ascii: "}") { i += 1; break }
        try expect(UInt8(ascii: ","))
        skipSpace()
      }
    }
    depth -= 1
    return .object(JSONObject(members))
  }

  private mutating func array() throws(JSONError) -> JSONValue {
    try nest()
    var items: [JSONValue] = []
    if i < b.count, b[i] == UInt8(ascii: "]") {
      i += 1
    } else {
      while true {
        items.append(try value())
        skipSpace()
        guard i < b.count else { throw error("unterminated array") }
        if b[i] == UInt8(ascii: "]") { i += 1; break }
        try expect(UInt8(ascii: ","))
        skipSpace()
      }
    }
    depth -= 1
    return .array(items)
  }

  private mutating func number() throws(JSONError) -> JSONValue {
    let start = i
    func digits() -> Int {
      let s = i
      while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
      return i - s
    }
    if b[i] == UInt8(ascii: "-") { i += 1 }
    let intStart = i
    guard digits() > 0 else { throw error("invalid number") }
    if b[intStart] == UInt8(ascii: "0") && i - intStart > 1 { throw error("leading zero in number") }
    if i < b.count, b[i] == UInt8(ascii: ".") {
      i += 1
      guard digits() > 0 else { throw error("invalid number") }
    }
    if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
      i += 1
      if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
      guard digits() > 0 else { throw error("invalid number") }
    }
    return .number(JSONNumber(literal: String(decoding: b[start..<i], as: UTF8.self)))
  }

  private mutating func hex4() throws(JSONError) -> UInt32 {
    guard i + 4 <= b.count else { throw error("truncated \\u escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = b[i]
      let d: UInt8
      switch c {
      case 0x30...0x39: d = c - 0x30
      case 0x41...0x46: d = c - 0x41 + 10
      case 0x61...0x66: d = c - 0x61 + 10
      default: throw error("invalid \\u escape")
      }
      v = v << 4 | UInt32(d)
      i += 1
    }
    return v
  }

  /// A string starting at the opening quote.
  private mutating func string() throws(JSONError) -> String {
    i += 1
    let start = i
    // Fast path: no escapes.
    while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\"), b[i] >= 0x20 { i += 1 }
    guard i < b.count else { throw error("unterminated string") }
    if b[i] == UInt8(ascii: "\"") {
      let raw = UnsafeRawBufferPointer(rebasing: b[start..<i])
      guard let s = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8 in string") }
      i += 1
      return s
    }
    scratch.removeAll(keepingCapacity: true)
    scratch.append(contentsOf: b[start..<i])
    while true {
      guard i < b.count else { throw error("unterminated string") }
      let c = b[i]
      if c == UInt8(ascii: "\"") {
        i += 1
        break
      }
      guard c >= 0x20 else { throw error("control character in string") }
      guard c == UInt8(ascii: "\\") else {
        scratch.append(c)
        i += 1
        continue
      }
      i += 1
      guard i < b.count else { throw error("unterminated escape") }
      let e = b[i]
      i += 1
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(e)
      case UInt8(ascii: "b"): scratch.append(0x08)
      case UInt8(ascii: "f"): scratch.append(0x0C)
      case UInt8(ascii: "n"): scratch.append(0x0A)
      case UInt8(ascii: "r"): scratch.append(0x0D)
      case UInt8(ascii: "t"): scratch.append(0x09)
      case UInt8(ascii: "u"):
        var v = try hex4()
        if (0xD800..<0xDC00).contains(v) {
          guard i + 2 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
            throw error("unpaired surrogate escape")
          }
          i += 2
          let lo = try hex4()
          guard (0xDC00..<0xE000).contains(lo) else { throw error("unpaired surrogate escape") }
          v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
        } else if (0xDC00..<0xE000).contains(v) {
          throw error("unpaired surrogate escape")
        }
        guard let scalar = Unicode.Scalar(v) else { throw error("invalid \\u escape") }
        scratch.append(contentsOf: scalar.utf8)
      default: throw error("invalid escape")
      }
    }
    guard let s = String(validating: scratch, as: UTF8.self) else { throw error("invalid UTF-8 in string") }
    return s
  }
}

extension JSONValue {
  /// Parses one JSON text (UTF-8 bytes) strictly: see `JSONParser`. Errors are `.syntax`
  /// problems with the byte offset.
  public init(parsing bytes: some Collection<UInt8>) throws(JSONError) {
    let parse = { (raw: UnsafeRawBufferPointer) in Result { () throws(JSONError) in try JSONParser.parse(raw) } }
    let result = bytes.withContiguousStorageIfAvailable { parse(UnsafeRawBufferPointer($0)) }
      ?? Array(bytes).withUnsafeBytes(parse)
    self = try result.get()
  }
}
