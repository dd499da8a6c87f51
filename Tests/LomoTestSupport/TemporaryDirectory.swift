import Foundation

/// A fresh scratch folder under the system's temporary directory, removed with everything in
/// it when the value is released (at the end of the test that holds it).
public final class TemporaryDirectory {
  public let url: URL
  public var path: String { url.path }

  /// Creates `<tmp>/lomo-<label>-<uuid>`.
  public init(_ label: String = "test") throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("lomo-\(label)-\(UUID().uuidString)")
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

  deinit { try? FileManager.default.removeItem(at: url) }
}
