import LomoTokenizer
import XCTest

@testable import LomoCLI

/// `lomo chat`'s history cut from its oldest exchanges to fit the context.
final class ChatHistoryTests: XCTestCase {
  /// One id per character of each message's content.
  func encode(_ messages: [ChatMessage]) -> [Int32] {
    messages.flatMap { $0.content.utf8.map { Int32($0) } }
  }

  func history(_ contents: [(String, String)]) -> ChatHistory {
    var h = ChatHistory(system: "sys")
    for (role, content) in contents { h.append(ChatMessage(role: role, content: content)) }
    return h
  }

  func testOldestExchangesGoFirstAndTheSystemStays() throws {
    var h = history([("user", "aaaa"), ("assistant", "bbbb"), ("user", "cc"), ("assistant", "dd"), ("user", "e")])
    let all = try XCTUnwrap(try h.fitted(within: 100, encode))
    XCTAssertEqual(all.dropped, 0)
    XCTAssertEqual(all.ids.count, 16)
    // 16 ids > 10: the first exchange (8 ids) goes; sys + cc + dd + e = 8.
    let cut = try XCTUnwrap(try h.fitted(within: 10, encode))
    XCTAssertEqual(cut.dropped, 1)
    XCTAssertEqual(h.messages.map(\.content), ["sys", "cc", "dd", "e"])
    XCTAssertEqual(cut.ids, encode(h.messages))
    // Down to the last user turn.
    XCTAssertEqual(try h.fitted(within: 4, encode)?.dropped, 1)
    XCTAssertEqual(h.messages.map(\.content), ["sys", "e"])
  }

  func testALastTurnTooLongLeavesTheHistory() throws {
    var h = history([("user", "aa"), ("assistant", "bb"), ("user", "a message too long")])
    XCTAssertNil(try h.fitted(within: 10, encode))
    XCTAssertEqual(h.messages.count, 4, "unchanged")
    h.removeLast()
    XCTAssertEqual(h.messages.map(\.content), ["sys", "aa", "bb"])
    h.reset()
    XCTAssertEqual(h.messages, [ChatMessage(role: "system", content: "sys")])
  }
}
