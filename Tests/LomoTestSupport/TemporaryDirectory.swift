import Foundation
import LomoModel
import XCTest

/// A fresh scratch folder under the system's temporary directory, removed with everything in
/// it when the value is released. A test case keeps one in a property only through
/// `XCTestCase.temporaryDirectory(_:)`: XCTest keeps every test-case instance alive until the
/// whole run ends, so a folder held by a property would outlive its test.
public final class TemporaryDirectory {
  public let url: URL
  public var path: String { url.path }

  /// Creates `<tmp>/lomo-<label>-<uuid>`; `onDisk`: under `.build/` of the current folder
  /// instead when the temporary directory lives in memory (tmpfs), for files that must be on a
  /// disk (streamed weights refuse tmpfs).
  public init(_ label: String = "test", onDisk: Bool = false) throws {
    var base = FileManager.default.temporaryDirectory
    if onDisk && StreamedLayers.isInMemory(base.path) {
      base = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/test-scratch")
    }
    url = base.appendingPathComponent("lomo-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// The path of `name` inside the folder.
  public func callAsFunction(_ name: String) -> String { path + "/" + name }

  /// Writes `bytes` as the file `name` and returns its path.
  @discardableResult
  public func write(_ bytes: [UInt8], _ name: String) throws -> String {
    try Data(bytes).write(to: url.appendingPathComponent(name))
    return self(name)
  }

  /// Writes `text` (UTF-8) as the file `name` and returns its path.
  @discardableResult
  public func write(_ text: String, _ name: String) throws -> String {
    try write(Array(text.utf8), name)
  }

  /// The names of the entries directly inside the folder (hidden ones included), sorted.
  public var contents: [String] { Self.contents(of: path) }

  /// The names of the entries directly inside `folder`, sorted ([] when it cannot be read).
  public static func contents(of folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
  }

  /// Removes the folder and everything in it (nothing when it is already gone).
  public func remove() { try? FileManager.default.removeItem(at: url) }

  deinit { remove() }
}

extension XCTestCase {
  /// A fresh `TemporaryDirectory` that is removed when the current test ends, whoever still
  /// holds it.
  public func temporaryDirectory(_ label: String, onDisk: Bool = false) throws -> TemporaryDirectory {
    let folder = try TemporaryDirectory(label, onDisk: onDisk)
    addTeardownBlock { folder.remove() }
    return folder
  }
}
