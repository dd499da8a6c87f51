import LomoCore
import XCTest

/// Typed access: values of the asked type, or errors naming the path, expected and found.
final class JSONFieldTests: XCTestCase {
  func field(_ s: String, path: String = "") throws -> JSONField {
    JSONField(try JSONValue(parsing: Array(s.utf8)), path: path)
  }

  func assertError(_ body: @autoclosure () throws -> Any, _ expected: String, line: UInt = #line) {
    XCTAssertThrowsError(try body(), line: line) { e in
      XCTAssertTrue(e is JSONError, "\(e)", line: line)
      XCTAssertEqual("\(e)", expected, line: line)
    }
  }

  func testAccessorsAndPaths() throws {
    let f = try field(#"{"rope_scaling": {"factor": "8"}, "messages": [{"role": 1}], "n": 3, "x": null, "a b": true}"#)
    XCTAssertEqual(try f["n"].integer(), 3)
    XCTAssertEqual(try f["n"].double(), 3)
    XCTAssertEqual(try f["a b"].bool(), true)
    XCTAssertNil(try f["x"].ifPresent?.string(), "null counts as absent")
    XCTAssertNil(try f["nope"].ifPresent?.string())
    assertError(try f["rope_scaling"]["factor"].double(), "rope_scaling.factor: expected a number, found a string")
    assertError(try f["messages"].array()[0]["role"].string(), "messages[0].role: expected a string, found a number")
    assertError(try f["rope_scaling"]["low"].float(), "rope_scaling.low: missing")
    assertError(try f["x"].string(), "x: missing")
    assertError(try f["a b"].integer(), #"["a b"]: expected an integer, found a boolean"#)
    assertError(try f["n"]["deeper"].string(), "n: expected an object, found a number")
    assertError(try f["x"]["deeper"].string(), "x.deeper: missing")
    assertError(try f.only(["n", "x"]), #"["a b"]: unknown key"#)
    assertError(try field("[1]", path: "$").object(), "$: expected an object, found an array")
  }

  func testIntegersAreStrict() throws {
    let f = try field(#"{"a": 2.5, "b": 3.0, "c": 1e3, "d": 300, "e": 18446744073709551615, "f": -1, "g": 1e400}"#)
    assertError(try f["a"].integer(), "a: expected an integer, found a fraction")
    XCTAssertEqual(try f["b"].integer(), 3)
    XCTAssertEqual(try f["c"].integer(), 1000)
    assertError(try f["d"].integer(UInt8.self), "d: 300 is outside the range of UInt8")
    XCTAssertEqual(try f["e"].integer(UInt64.self), .max, "integers are exact beyond 2^53")
    assertError(try f["e"].integer(Int64.self), "e: 18446744073709551615 is outside the range of Int64")
    assertError(try f["f"].integer(UInt.self), "f: -1 is outside the range of UInt")
    assertError(try f["g"].double(), "g: 1e400 is outside the range of Double")
    assertError(try f["g"].integer(), "g: 1e400 is outside the range of Int")  // too large, not a fraction
  }

  func testFloatsRoundOnceFromTheLiteral() throws {
    let f = try field(#"{"eps": 1e-05, "big": 1e39}"#)
    XCTAssertEqual(try f["eps"].float(), Float(1e-5))
    assertError(try f["big"].float(), "big: 1e39 is outside the range of Float")
  }
}
