import Foundation
import LomoCore
import XCTest

@testable import LomoTokenizer

/// One template per Jinja construct (Fixtures/jinja_cases.json), rendered by transformers' Jinja
/// environment (scripts/make_chat_template_fixtures.py); lomo's interpreter must agree byte for byte.
final class JinjaConstructTests: XCTestCase {
  func testConstructsRenderAsJinjaDoes() throws {
    let root = JSONField(try JSONValue(parsing: Data(contentsOf: fixtureURL("jinja_cases.json"))))
    let cases = try root["cases"].array()
    XCTAssertGreaterThan(cases.count, 40)
    let now = try ChatTemplateGoldenTests.fixtureNow("2026-03-05T14:07:09")
    for c in cases {
      let name = try c["name"].string()
      var context: [String: JSONValue] = [:]
      for (k, v) in try c["context"].members() { context[k] = v.value }
      do {
        let out = try JinjaTemplate(try c["template"].string()).render(context, now: now)
        let expected = try c["output"].string()
        XCTAssertEqual(Array(out.unicodeScalars), Array(expected.unicodeScalars), "\(name): got \(out.debugDescription), want \(expected.debugDescription)")
      } catch let e as JinjaError {
        guard let expected = try c["error"].ifPresent?.string() else { XCTFail("\(name): \(e)"); continue }
        XCTAssertEqual(e.kind, .raised, name)
        XCTAssertEqual(e.message, expected, name)
      }
    }
  }
}
