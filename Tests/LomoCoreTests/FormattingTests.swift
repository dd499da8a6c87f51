import LomoCore
import XCTest

/// `Format` and `TextTable`: the exact text the CLI's tables, progress lines and messages show.
final class FormattingTests: XCTestCase {
  func testBytes() {
    XCTAssertEqual(Format.bytes(0), "0 B")
    XCTAssertEqual(Format.bytes(1023), "1023 B")
    XCTAssertEqual(Format.bytes(1024), "1.0 KiB")
    XCTAssertEqual(Format.bytes(12 << 20), "12.0 MiB")
    XCTAssertEqual(Format.bytes(3 << 29), "1.5 GiB")
    XCTAssertEqual(Format.bytes(5 << 50), "5120.0 TiB", "TiB is the largest unit")
    XCTAssertEqual(Format.bytes(-(3 << 19)), "-1.5 MiB")
    XCTAssertEqual(Format.mebibytes(845_000_000), "806")
    XCTAssertEqual(Format.mebibytes(0), "0")
  }

  func testCount() {
    XCTAssertEqual(Format.count(999_999), "999999")
    XCTAssertEqual(Format.count(134_515_008), "134.5M (134515008)")
  }

  func testDurations() {
    XCTAssertEqual(Format.duration(0, .clock), "0:00")
    XCTAssertEqual(Format.duration(59.6, .clock), "1:00")
    XCTAssertEqual(Format.duration(3599, .clock), "59:59")
    XCTAssertEqual(Format.duration(3600 + 62, .clock), "1:01:02")
    XCTAssertEqual(Format.duration(12.34, .compact), "12.3s")
    XCTAssertEqual(Format.duration(125, .compact), "2m05s")
    for style in [Format.DurationStyle.clock, .compact] {
      XCTAssertEqual(Format.duration(.infinity, style), "?")
      XCTAssertEqual(Format.duration(.nan, style), "?")
      XCTAssertEqual(Format.duration(-1, style), "?")
    }
  }

  func testKeyValueAlignsKeysToTheLongest() {
    XCTAssertEqual(TextTable.keyValue([("steps", "40"), ("peak RSS", "806.4 MiB")]),
                   "  steps     40\n  peak RSS  806.4 MiB")
    XCTAssertEqual(TextTable.keyValue([("total", "1 B")], separator: " ", keyWidth: 15),
                   "  total           1 B")
    XCTAssertEqual(TextTable.keyValue([]), "")
  }

  func testColumnsPadByAlignmentAndMinimumWidth() {
    var table = TextTable(columns: [.left, TextTable.Column(.right, minimumWidth: 6), .right], separator: " ")
    table.append(["layer", "M", "ms"])
    table.append(["q", "576", "12.5"])
    XCTAssertEqual(table.widths, [5, 6, 4])
    XCTAssertEqual(table.render(), "layer      M   ms\nq        576 12.5")
    XCTAssertEqual(TextTable.pad("abc", to: 5), "abc  ")
    XCTAssertEqual(TextTable.pad("abc", to: 5, .right), "  abc")
    XCTAssertEqual(TextTable.pad("abcdef", to: 3), "abcdef")
  }

  func testExcerptIsBoundedAndEscaped() {
    XCTAssertEqual(Format.excerpt("blk.0.attn_q.weight"), "blk.0.attn_q.weight")
    XCTAssertEqual(Format.excerpt("a\u{0}b\nc\u{7F}"), "a\\u{0}b\\u{A}c\\u{7F}")
    let long = String(repeating: "x", count: 110_000)
    XCTAssertEqual(Format.excerpt(long), String(repeating: "x", count: 79) + "…")
    XCTAssertEqual(Format.excerpt(String(repeating: "y", count: 80)), String(repeating: "y", count: 80), "exactly the limit")
    let binary = String(decoding: (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37) }, as: UTF8.self)
    let shown = Format.excerpt(binary)
    XCTAssertLessThanOrEqual(shown.unicodeScalars.count, 80)
    XCTAssertFalse(shown.unicodeScalars.contains { $0.value < 0x20 }, shown)
    XCTAssertEqual(Format.excerpt(shown), shown, "applying it twice changes nothing")
  }
}
