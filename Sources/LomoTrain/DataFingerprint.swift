import Foundation
import LomoCore

/// What identifies a data file in a run record: its path, size in bytes, number of lines (a
/// last line without a newline counts) and SHA-256 (the digest `sha256sum` prints), read in
/// 1 MiB chunks.
public struct DataFingerprint: Codable, Equatable, Sendable {
  public var path: String
  public var bytes: Int
  public var lines: Int
  public var sha256: String

  /// Reads `path` once; a file that cannot be read throws `TrainingError.io` naming it.
  public init(path: String) throws(TrainingError) {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw TrainingError.io(path: path, problem: "cannot open the data file to record its hash")
    }
    defer { try? handle.close() }
    var hash = SHA256()
    var bytes = 0, lines = 0
    var last: UInt8 = 0x0a
    do {
      while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
        chunk.withUnsafeBytes { raw in
          hash.update(raw)
          lines += raw.reduce(0) { $0 + ($1 == 0x0a ? 1 : 0) }
        }
        bytes += chunk.count
        last = chunk.last ?? last
      }
    } catch {
      throw TrainingError.io(path: path, problem: "cannot read the data file to record its hash (\(error.localizedDescription))")
    }
    if last != 0x0a { lines += 1 }
    self.path = path
    self.bytes = bytes
    self.lines = lines
    sha256 = hash.hexDigest()
  }
}
