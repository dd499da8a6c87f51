/// A JSON text that is malformed, or a value that is not what the reader expected, with the
/// path of the value (`rope_scaling.factor`, `messages[0].role`; empty for the whole text).
/// Callers wrap it into their own error naming the file, e.g.
/// `config.json: rope_scaling.factor: expected a number, found a string`.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Problem: Equatable, Sendable {
    /// The text is not RFC 8259 JSON (or is nested too deeply, or is not valid UTF-8).
    case syntax(String, byteOffset: Int)
    /// A required value is absent or null.
    case missing
    /// A value of another JSON type, e.g. expected "a number", found "a string".
    case wrongType(expected: String, found: String)
    /// A key the reader does not accept.
    case unknownKey
    /// A value of the right type that is not acceptable (out of range, not a known name).
    case invalid(String)
  }

  public var path: String
  public var problem: Problem

  public init(path: String, _ problem: Problem) {
    self.path = path
    self.problem = problem
  }

  /// The problem without the path.
  public var reason: String {
    switch problem {
    case .syntax(let what, let offset): "\(what) at byte offset \(offset)"
    case .missing: "missing"
    case .wrongType(let expected, let found): "expected \(expected), found \(found)"
    case .unknownKey: "unknown key"
    case .invalid(let why): why
    }
  }

  public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// Paths as `JSONError` prints them: `.key` after a parent (a key that is not a plain name
/// is quoted, `["a b"]`), `[i]` for an array index.
enum JSONPath {
  static func appending(_ key: String, to parent: String) -> String {
    let plain = !key.isEmpty && key.utf8.allSatisfy {
      (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
        || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
    }
    // Other keys are quoted, bounded and escaped: a path may name a key of a hostile file.
    if !plain { return parent + "[\"" + Format.excerpt(key, limit: 60) + "\"]" }
    return parent.isEmpty ? key : parent + "." + key
  }

  static func appending(_ index: Int, to parent: String) -> String { parent + "[\(index)]" }
}
