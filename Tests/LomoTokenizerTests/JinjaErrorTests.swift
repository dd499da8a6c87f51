import Foundation
import LomoCore
import LomoTestSupport
import XCTest

@testable import LomoTokenizer

/// Templates that are wrong or hostile: each fails with a typed error naming its line, never a
/// trap, a hang or an unbounded allocation.
final class JinjaErrorTests: XCTestCase {
  func parseError(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> JinjaError? {
    do {
      _ = try JinjaTemplate(source)
      XCTFail("parsed: \(source.prefix(80).debugDescription)", file: file, line: line)
      return nil
    } catch {
      return error
    }
  }

  func renderError(_ source: String, _ context: [String: JSONValue] = [:], limits: JinjaLimits = JinjaLimits(),
                   file: StaticString = #filePath, line: UInt = #line) -> JinjaError? {
    do {
      let out = try JinjaTemplate(source).render(context, limits: limits)
      XCTFail("rendered \(out.prefix(80).debugDescription)", file: file, line: line)
      return nil
    } catch {
      return error
    }
  }

  func testSyntaxErrorsNameTheirLine() {
    let cases: [(String, Int, String)] = [
      ("a\nb {{ x", 2, "unterminated tag"),
      ("{% for x in xs %}\n{{ x }}\n", 1, "'for' is never closed"),
      ("x\n\n{% if a %}\n{% else %}", 3, "'if' is never closed"),
      ("{# note", 1, "unterminated comment"),
      ("\n{{ 'abc }}", 2, "unterminated string literal"),
      ("{% endif %}", 1, "unexpected 'endif'"),
      ("\n\n{% macro m() %}{% endmacro %}", 3, "unsupported tag 'macro'"),
      ("{{ x | frobnicate }}", 1, "no filter named 'frobnicate'"),
      ("{{ x is frobnicated }}", 1, "no test named 'frobnicated'"),
      ("{% break %}", 1, "'break' outside a for loop"),
      ("{{ }}", 1, "expected an expression"),
      ("{{ a b }}", 1, "expected '}}'"),
      ("{{ (1 }}", 1, "unexpected '}', expected ')'"),
      ("{{ [1, 2) }}", 1, "unexpected ')', expected ']'"),
      ("{{ 1 ) }}", 1, "unexpected ')'"),
      ("{{ f(a=1, 2) }}", 1, "positional argument follows a keyword"),
      ("{{ a ? b }}", 1, "unexpected character"),
    ]
    for (source, line, message) in cases {
      guard let e = parseError(source) else { continue }
      XCTAssertEqual(e.kind, .syntax, source)
      XCTAssertEqual(e.line, line, "\(source.debugDescription): \(e)")
      XCTAssertTrue(e.message.contains(message), "\(source.debugDescription): \(e)")
    }
  }

  func testRuntimeErrorsNameTheirLine() {
    let empty: [String: JSONValue] = ["messages": .array([])]
    let cases: [(String, [String: JSONValue], Int, String)] = [
      ("\n{{ 1 + 'a' }}", [:], 2, "unsupported operand type(s) for +: 'int' and 'str'"),
      ("{{ x.y }}", [:], 1, "'x' is undefined"),
      ("\n\n{{ messages[0]['role'] }}", empty, 3, "has no item"),
      ("{{ m.content + 'x' }}", ["m": .object(JSONObject([("role", .string("user"))]))], 1, "'dict object' has no attribute 'content'"),
      ("{{ 1 // 0 }}", [:], 1, "division or modulo by zero"),
      ("{{ 9223372036854775807 + 1 }}", [:], 1, "integer overflow"),
      ("{% for x in 3 %}{% endfor %}", [:], 1, "'int' object is not iterable"),
      ("{{ 'a'.strip(1) }}", [:], 1, "must be a string"),
      ("{{ x | tojson }}", [:], 1, "not JSON serializable"),
      ("{% set ns.a = 1 %}", [:], 1, "only namespace() objects"),
      ("{{ 3() }}", [:], 1, "not callable"),
      ("{{ 'a' < 1 }}", [:], 1, "'<' not supported"),
    ]
    for (source, context, line, message) in cases {
      guard let e = renderError(source, context) else { continue }
      XCTAssertEqual(e.kind, .runtime, source)
      XCTAssertEqual(e.line, line, "\(source.debugDescription): \(e)")
      XCTAssertTrue(e.message.contains(message), "\(source.debugDescription): \(e)")
    }
    let raised = renderError("\n{{ raise_exception('Only user and assistant roles are supported!') }}")
    XCTAssertEqual(raised, JinjaError(.raised, line: 2, "Only user and assistant roles are supported!"))
    XCTAssertEqual(raised?.description, "line 2: the template raised an exception: Only user and assistant roles are supported!")
  }

  func testDeepNestingIsRefusedNotACrash() {
    for source in [
      String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000),
      "{{ " + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + " }}",
      "{{ " + String(repeating: "not ", count: 50_000) + "x }}",
      "{{ " + String(repeating: "-", count: 50_000) + "1 }}",
      String(repeating: "{% if x %}", count: 10_000) + String(repeating: "{% endif %}", count: 10_000),
    ] {
      let wrapped = source.hasPrefix("(") ? "{{ " + source + " }}" : source
      XCTAssertEqual(parseError(wrapped)?.kind, .limit, String(wrapped.prefix(20)))
    }
  }

  func testRunawayRenderingIsBounded() {
    let small = JinjaLimits(maxOutputBytes: 1 << 20, maxWork: 200_000)
    XCTAssertEqual(renderError("{% for i in range(1000) %}{% for j in range(1000) %}{{ j }}{% endfor %}{% endfor %}", limits: small)?.kind, .limit)
    XCTAssertEqual(renderError("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", limits: small)?.kind, .limit)
    let runaway = renderError("a\n{% for i in range(100000) %}\n{% for j in range(100) %}{{ j }}{% endfor %}{% endfor %}", limits: small)
    XCTAssertEqual(runaway?.kind, .limit)
    XCTAssertTrue((2...3).contains(runaway?.line ?? 0), "\(String(describing: runaway))")
    XCTAssertEqual(renderError("{{ range(1000000000) }}")?.kind, .limit)
    XCTAssertEqual(renderError("{{ 'a' * 1000000000 }}")?.kind, .limit)
    XCTAssertEqual(renderError("{{ [1] * 9223372036854775807 }}")?.kind, .limit)
    XCTAssertEqual(renderError("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")?.kind, .limit)
    XCTAssertEqual(renderError("{% for i in range(100000) %}{% for j in range(100) %}{{ '' }}{% endfor %}{% endfor %}")?.kind, .limit,
                   "the default work bound")
    XCTAssertEqual(renderError("{% for i in range(100000) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }}{% endfor %}", limits: small)?.kind, .limit)
  }

  /// Seeded mutations of a real template: whatever the result, a value or a `JinjaError`,
  /// never a crash.
  func testMutatedTemplatesNeverTrap() throws {
    let source = Array(try String(contentsOf: fixtureURL("chat_templates/qwen3.jinja"), encoding: .utf8).utf8)
    var mutator = Mutator(seed: 16)
    let messages: [String: JSONValue] = [
      "messages": .array([.object(JSONObject([("role", .string("user")), ("content", .string("hi"))]))]),
      "add_generation_prompt": .bool(true),
    ]
    var outcomes = (parsed: 0, failed: 0)
    for _ in 0..<300 {
      let bytes = mutator.mutate(source, region: 0..<source.count)
      let text = String(decoding: bytes, as: UTF8.self)
      do {
        _ = try JinjaTemplate(text).render(messages, limits: JinjaLimits(maxOutputBytes: 1 << 20, maxWork: 100_000))
        outcomes.parsed += 1
      } catch {
        XCTAssertGreaterThan(error.line, 0)
        outcomes.failed += 1
      }
    }
    XCTAssertGreaterThan(outcomes.failed, 0)
    XCTAssertGreaterThan(outcomes.parsed, 0)
  }
}
