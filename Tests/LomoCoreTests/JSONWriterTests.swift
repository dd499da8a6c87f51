import LomoCore
import XCTest

/// The writer: valid, deterministic text that parses back to the same value.
final class JSONWriterTests: XCTestCase {
  func text(_ v: JSONValue, _ options: JSONWriteOptions = []) -> String { String(decoding: v.serialized(options), as: UTF8.self) }

  func testRoundTrip() throws {
    let v: JSONValue = [
      "s": "q\"\\/\u{8}\u{C}\n\r\t\u{1}\u{E9}\u{1F917}\u{FEFF}", "e\u{301}": 1, "\u{E9}": 2,
      "n": [JSONValue(1e-5 as Float), JSONValue(0.1), JSONValue(-0.0), JSONValue(UInt64.max), JSONValue(Int64.min)],
      "nested": ["a": [], "b": [:], "c": [nil, true, false]],
    ]
    for options: JSONWriteOptions in [[], .pretty, .sortedKeys, [.pretty, .sortedKeys]] {
      let back = try JSONValue(parsing: v.serialized(options))
      if options.contains(.sortedKeys) {
        XCTAssertEqual(back.objectValue?.count, v.objectValue?.count)
        XCTAssertEqual(back.objectValue?["s"], v.objectValue?["s"])
      } else {
        XCTAssertEqual(back, v, "\(options)")
      }
    }
  }

  func testLayout() {
    let v: JSONValue = ["b": [1, 2], "a": ["x": nil], "c": [], "d": [:]]
    XCTAssertEqual(text(v), #"{"b":[1,2],"a":{"x":null},"c":[],"d":{}}"#)
    XCTAssertEqual(text(v, .sortedKeys), #"{"a":{"x":null},"b":[1,2],"c":[],"d":{}}"#)
    XCTAssertEqual(text(v, .pretty), """
      {
        "b": [
          1,
          2
        ],
        "a": {
          "x": null
        },
        "c": [],
        "d": {}
      }
      """)
    XCTAssertEqual(text("\u{1F}\u{7F}"), "\"\\u001f\u{7F}\"")
  }

  func testNumbers() throws {
    XCTAssertEqual(text(JSONValue(Float(1e-5))), "1e-05", "the shortest Float decimal, not 9.999999747378752e-06")
    XCTAssertEqual(text(JSONValue(10_000 as Float)), "10000", "integral values print without a fraction")
    XCTAssertEqual(text(JSONValue(0.02)), "0.02")
    XCTAssertEqual(text(JSONValue(1e300)), "1e+300")
    XCTAssertEqual(text(JSONValue(Double.nan)), "null")
    XCTAssertEqual(text(JSONValue(-Float.infinity)), "null")
    // Every float reads back exactly, through the text.
    var rng = Xoshiro256(seed: 7)
    for _ in 0..<2000 {
      let f = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))
      let d = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
      if f.isFinite { XCTAssertEqual(try JSONField(JSONValue(parsing: JSONValue(f).serialized())).float().bitPattern, f.bitPattern) }
      if d.isFinite { XCTAssertEqual(try JSONField(JSONValue(parsing: JSONValue(d).serialized())).double().bitPattern, d.bitPattern) }
    }
  }
}
