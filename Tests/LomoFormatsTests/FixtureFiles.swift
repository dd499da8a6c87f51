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
}
