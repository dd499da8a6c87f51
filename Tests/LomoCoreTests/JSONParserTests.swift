import LomoCore
import XCTest

/// The strict parser: RFC 8259 only, byte-exact strings, numbers as written, errors with offsets.
final class JSONParserTests: XCTestCase {
  func parse(_ s: String) throws -> JSONValue { try JSONValue(parsing: Array(s.utf8)) }

  func testValues() throws {
    let v = try parse(#" {"a": [1, -2.5e1, true, false, null, "q\"\\\/\b\f\n\r\t\u00e9\ud83e\udd17"], "a": 7} "#)
    let o = try XCTUnwrap(v.objectValue)
    XCTAssertEqual(o.count, 2, "duplicate keys are kept")
    XCTAssertEqual(o["a"], 7, "the last duplicate wins")
    let a = try XCTUnwrap(o.members[0].value.arrayValue)
    XCTAssertEqual([a[0], a[2], a[3], a[4]], [1, true, false, nil])
    guard case .number(let n) = a[1] else { return XCTFail("\(a)") }
    XCTAssertEqual(n.text, "-2.5e1", "a number keeps its literal")
    XCTAssertEqual(n.double, -25)
    XCTAssertEqual(a[5].stringValue, "q\"\\/\u{8}\u{C}\n\r\t\u{E9}\u{1F917}")
  }

  func testStringsAreByteExact() throws {
    // Canonically equivalent keys stay apart; a leading U+FEFF is kept.
    let v = try parse("{\"\u{00E9}\": 1, \"e\u{301}\": 2, \";\": 3, \"\u{037E}\": 4, \"\u{FEFF}x\": 5}")
    let o = try XCTUnwrap(v.objectValue)
    XCTAssertEqual(o.count, 5)
    XCTAssertEqual(o["\u{00E9}"], 1)
    XCTAssertEqual(o["e\u{301}"], 2)
    XCTAssertEqual(o[";"], 3)
    XCTAssertEqual(o["\u{037E}"], 4)
    XCTAssertEqual(Array(o.members[4].key.utf8), [0xEF, 0xBB, 0xBF, 0x78])
    XCTAssertNotEqual(JSONValue.string("\u{00E9}"), JSONValue.string("e\u{301}"), "equality compares bytes")
  }

  func testMalformedInputsAreSyntaxErrors() {
    let bad: [[UInt8]] = [
      [], Array("{".utf8), Array("[1,]".utf8), Array("{\"a\" 1}".utf8), Array("{\"a\":1,}".utf8), Array("01".utf8),
      Array("1.".utf8), Array("-".utf8), Array("1e".utf8), Array("+1".utf8), Array(".5".utf8), Array("tru".utf8),
      Array("nul".utf8), Array("NaN".utf8), Array("[1] 2".utf8), Array("'a'".utf8),
      Array("\"abc".utf8), Array("\"\\x\"".utf8), Array("\"\\u12\"".utf8), Array("\"\\ud800\"".utf8),
      Array("\"\\udc00\"".utf8), Array("\"\\ud800\\u0041\"".utf8), [0x22, 0x0A, 0x22], [0x22, 0xFF, 0x22],
      [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0xEF, 0xBB, 0xBF, 0x31], Array("{1: 2}".utf8),
      Array(String(repeating: "[", count: 100_000).utf8),  // deep nesting: an error, not a stack overflow
    ]
    for b in bad {
      XCTAssertThrowsError(try JSONValue(parsing: b), "\(String(decoding: b.prefix(20), as: UTF8.self))") { e in
        guard case .syntax = (e as? JSONError)?.problem else { return XCTFail("\(e)") }
      }
    }
  }

  func testErrorsNameTheByteOffset() {
    XCTAssertThrowsError(try parse(#"{"a": [1, 2,]}"#)) { e in
      XCTAssertEqual(e as? JSONError, JSONError(path: "", .syntax("unexpected byte 0x5d", byteOffset: 12)))
      XCTAssertEqual("\(e)", "unexpected byte 0x5d at byte offset 12")
    }
  }

  func testNestingLimit() throws {
    let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
    XCTAssertNoThrow(try parse(ok))
    let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
    XCTAssertThrowsError(try parse(deep)) { e in
      guard case .syntax(let what, _) = (e as? JSONError)?.problem else { return XCTFail("\(e)") }
      XCTAssertTrue(what.contains("nesting"), what)
    }
  }
}
