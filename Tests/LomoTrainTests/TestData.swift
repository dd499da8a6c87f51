import Foundation
import LomoTestSupport
import LomoTrain
import XCTest

/// A byte-level stand-in tokenizer: BOS 1 when special tokens are added, each UTF-8 byte as
/// its own id, EOS 2.
struct ByteEncoder: TextEncoding {
  var eosID: Int32? = 2
  var bosID: Int32? = 1
  func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
    (addSpecial ? [1] : []) + text.utf8.map { Int32($0) }
  }
}

extension XCTestCase {
  /// Writes `lines` to a fresh temporary JSONL file, removed when the test ends, and returns
  /// its path.
  func writeJSONL(_ lines: [String], name: String = "data.jsonl") throws -> String {
    try temporaryDirectory("train-tests").write(lines.joined(separator: "\n"), name)
  }
}

/// ../shared/data/superglue relative to the repository root, or nil where it is absent.
func superGLUEFile(_ task: String, _ split: String = "val") -> String? {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  let path = root.appendingPathComponent("../shared/data/superglue/\(task)/\(split).jsonl").standardized.path
  return FileManager.default.fileExists(atPath: path) ? path : nil
}

func choices(_ d: Dataset) -> [ChoiceRecord] {
  d.records.compactMap { if case .choice(let c) = $0 { c } else { nil } }
}
