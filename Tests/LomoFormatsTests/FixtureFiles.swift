import Foundation
import XCTest

/// Paths of the committed fixtures (written by scripts/make_gguf_fixtures.py).
enum FixtureFiles {
  static func url(_ name: String, _ ext: String) -> URL {
    guard
      let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures")
    else { preconditionFailure("fixture \(name).\(ext) missing from the test bundle") }
    return url
  }

  static func path(_ name: String, _ ext: String) -> String { url(name, ext).path }

  static func bytes(_ name: String, _ ext: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: url(name, ext)))
  }

  /// The real model, or a skip naming where it was expected.
  static func smolLM2() throws -> String {
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    let path = home + "/.cache/lomo/SmolLM2-135M-Instruct.Q4_1.gguf"
    guard FileManager.default.fileExists(atPath: path) else {
      throw XCTSkip("real-model test needs \(path) (SmolLM2-135M-Instruct Q4_1 GGUF); not found")
    }
    return path
  }
}
