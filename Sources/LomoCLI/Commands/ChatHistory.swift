import LomoTokenizer

/// The conversation of `lomo chat`: an optional system turn, then user and assistant turns.
struct ChatHistory: Equatable {
  let system: [ChatMessage]
  private(set) var turns: [ChatMessage] = []

  init(system: String?) {
    self.system = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
  }

  var messages: [ChatMessage] { system + turns }

  mutating func append(_ message: ChatMessage) { turns.append(message) }

  /// Takes back the last turn (a message that could not be answered).
  mutating func removeLast() { turns.removeLast() }

  /// Back to the system turn alone.
  mutating func reset() { turns = [] }

  /// The ids of the history, `encode` turning messages into ids, with its oldest exchanges (a
  /// user turn and the replies after it) dropped while the ids exceed `budget` and an older
  /// exchange than the last user turn remains; returns the ids and how many exchanges went.
  /// Nil when the last user turn alone (after the system turn) exceeds `budget`: the history
  /// is then left as it was.
  mutating func fitted(within budget: Int, _ encode: ([ChatMessage]) throws -> [Int32]) throws -> (ids: [Int32], dropped: Int)? {
    var kept = turns
    var dropped = 0
    while true {
      let ids = try encode(system + kept)
      if ids.count <= budget {
        turns = kept
        return (ids, dropped)
      }
      // The next exchange starts at the first user turn after the first message.
      guard let next = kept.dropFirst().firstIndex(where: { $0.role == "user" }) else { return nil }
      kept.removeSubrange(..<next)
      dropped += 1
    }
  }
}
