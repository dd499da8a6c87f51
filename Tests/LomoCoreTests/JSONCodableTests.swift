import LomoCore
import XCTest

/// The Codable bridge: what `JSONValue(encoding:)` writes, `JSONField.decode` reads back, and
/// reading is as strict as `JSONField`, with coding paths in errors.
final class JSONCodableTests: XCTestCase {
  enum Length: Codable, Equatable {
    case epochs(Int)
    case maxSteps(Int)
  }

  struct Inner: Codable, Equatable {
    var rate: Float
    var dtype: DType
  }

  struct Sample: Codable, Equatable {
    var name: String
    var seed: UInt64
    var count: Int32
    var ratio: Double?
    var flags: [Bool]
    var inner: Inner
    var table: [String: UInt64]
    var length: Length
  }

  let sample = Sample(
    name: "e\u{301}\u{FEFF}", seed: .max, count: -7, ratio: nil, flags: [true, false],
    inner: Inner(rate: 1e-5, dtype: .bf16), table: ["rng.0": 1 << 63, "b": 2], length: .maxSteps(3))

  func decode<T: Decodable>(_ type: T.Type, _ s: String) throws -> T {
    try JSONField(JSONValue(parsing: Array(s.utf8)), path: "state").decode(T.self)
  }

  func testRoundTrip() throws {
    let text = try JSONValue(encoding: sample).serialized([.pretty, .sortedKeys])
    let back = try JSONField(JSONValue(parsing: text)).decode(Sample.self)
    XCTAssertEqual(back, sample)
    XCTAssertTrue(Array(back.name.utf8).elementsEqual(sample.name.utf8))
    let inner = try JSONValue(encoding: sample.inner)
    XCTAssertEqual(inner.description, #"{"rate":1e-05,"dtype":"bf16"}"#, "declaration order, shortest floats")
  }

  func testErrorsHaveCodingPaths() throws {
    func assertError<T: Decodable>(_ type: T.Type, _ s: String, _ expected: String, line: UInt = #line) {
      XCTAssertThrowsError(try decode(type, s), line: line) { e in
        XCTAssertTrue(e is JSONError, "\(e)", line: line)
        XCTAssertEqual("\(e)", expected, line: line)
      }
    }
    assertError(Inner.self, #"{"rate": "x", "dtype": "f32"}"#, "state.rate: expected a number, found a string")
    assertError(Inner.self, #"{"dtype": "f32"}"#, "state.rate: missing")
    assertError([Int32].self, #"[1, 2.5]"#, "state[1]: expected an integer, found a fraction")
    assertError([UInt8].self, #"[1, 256]"#, "state[1]: 256 is outside the range of UInt8")
    assertError(Inner.self, #"{"rate": 1, "dtype": "f64"}"#,
                "state.dtype: Cannot initialize DType from invalid String value f64")
    assertError(Inner.self, #"{"rate": 1e39, "dtype": "f32"}"#, "state.rate: 1e39 is outside the range of Float")
  }

  func testEncodingRefusesNonFiniteFloats() {
    XCTAssertThrowsError(try JSONValue(encoding: Inner(rate: .nan, dtype: .f32))) { e in
      XCTAssertEqual((e as? JSONError)?.path, "rate")
    }
  }
}
