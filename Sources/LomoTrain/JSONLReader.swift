import Foundation
import LomoCore

/// Streams the lines of a JSONL file in fixed-size chunks and parses each non-blank line as one
/// JSON object. Errors name the file and the 1-based line number. A line longer than
/// `maxLineBytes` is refused before it is buffered whole, so a corrupt file cannot make the
/// reader allocate without bound.
public struct JSONLReader {
  public static let defaultMaxLineBytes = 64 << 20
  public let path: String
  public var maxLineBytes: Int
  var chunkBytes = 1 << 20

  public init(path: String, maxLineBytes: Int = Self.defaultMaxLineBytes) {
    self.path = path
    self.maxLineBytes = maxLineBytes
  }

  /// Calls `body` with each non-blank line's object (paths in its errors start inside the
  /// record, e.g. `messages[0].role`) and its line number, in file order.
  public func forEachObject(_ body: (JSONField, Int) throws -> Void) throws {
    try forEachLine { bytes, line in
      let object: JSONValue
      do throws(JSONError) {
        object = try JSONValue(parsing: bytes)
      } catch {
        throw DatasetError(file: path, line: line, DatasetError.Problem(error))
      }
      guard case .object = object else {
        throw DatasetError(file: path, line: line, .notAnObject)
      }
      try body(JSONField(object), line)
    }
  }

  /// Calls `body` with the bytes of each line that is not blank (a trailing "\r" removed).
  public func forEachLine(_ body: (Data, Int) throws -> Void) throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
      throw DatasetError(file: path, .unreadable("it is a folder; give the path of a JSONL file"))
    }
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw DatasetError(file: path, .unreadable("no such file or no permission"))
    }
    defer { try? handle.close() }
    var pending = Data()
    var line = 0
    func emit(_ raw: Data) throws {
      line += 1
      var bytes = raw
      if bytes.last == 0x0D { bytes.removeLast() }
      if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
      try body(bytes, line)
    }
    while true {
      let chunk: Data
      do {
        chunk = try handle.read(upToCount: chunkBytes) ?? Data()
      } catch {
        throw DatasetError(file: path, line: line + 1, .unreadable("\(error)"))
      }
      if chunk.isEmpty { break }
      var start = chunk.startIndex
      while let newline = chunk[start...].firstIndex(of: 0x0A) {
        pending.append(chunk[start..<newline])
        if pending.count > maxLineBytes { throw DatasetError(file: path, line: line + 1, .lineTooLong(maxLineBytes)) }
        try emit(pending)
        pending.removeAll(keepingCapacity: true)
        start = chunk.index(after: newline)
      }
      pending.append(chunk[start...])
      if pending.count > maxLineBytes { throw DatasetError(file: path, line: line + 1, .lineTooLong(maxLineBytes)) }
    }
    if !pending.isEmpty { try emit(pending) }
  }
}
