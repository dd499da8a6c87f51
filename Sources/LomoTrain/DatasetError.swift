import LomoCore

/// A problem with a data file, naming the file and, where it is about one line, the 1-based
/// line number. Library code throws it; the CLI prints `description`.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
  public enum Problem: Equatable, Sendable {
    /// The file could not be opened or read.
    case unreadable(String)
    /// A line longer than `JSONLReader.maxLineBytes`.
    case lineTooLong(Int)
    /// A line that is not valid UTF-8 JSON.
    case malformedJSON(String)
    /// A line whose JSON is not an object.
    case notAnObject
    /// A field the format does not define (the dotted path inside the record).
    case unknownField(String)
    /// A field the format needs.
    case missingField(String)
    /// A field of the wrong type or with a value out of range.
    case invalidField(String, String)
    /// A task or format name that lomo does not know.
    case unknownTask(String)
    case unknownFormat(String)
    /// The fields match no known format, or one the file's first record did not have.
    case undetectedFormat(String)
    /// The fields are SuperGLUE's, but more than one task has them: `--task` is needed.
    case needsTask(String)
    /// The file holds no records.
    case empty
  }

  public let file: String
  /// 1-based line number, nil when the problem is about the whole file.
  public let line: Int?
  public let problem: Problem

  public init(file: String, line: Int? = nil, _ problem: Problem) {
    self.file = file
    self.line = line
    self.problem = problem
  }

  public var description: String {
    let place = line.map { "\(file):\($0)" } ?? file
    return "\(place): \(problemDescription)"
  }

  var problemDescription: String {
    switch problem {
    case .unreadable(let why): "cannot read the file: \(why)"
    case .lineTooLong(let n): "line is longer than \(n) bytes"
    case .malformedJSON(let why): "malformed JSON: \(why)"
    case .notAnObject: "a line must be one JSON object"
    case .unknownField(let f): "unknown field '\(f)'"
    case .missingField(let f): "missing field '\(f)'"
    case .invalidField(let f, let why): "field '\(f)': \(why)"
    case .unknownTask(let t):
      "unknown task '\(t)'; known: \(SuperGLUETask.allCases.map(\.rawValue).joined(separator: ", "))"
    case .unknownFormat(let f):
      "unknown format '\(f)'; known: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", "))"
    case .undetectedFormat(let why): why
    case .needsTask(let tasks): "the fields are those of SuperGLUE \(tasks); pass --task"
    case .empty: "no records"
    }
  }
}

extension DatasetError.Problem {
  /// A field problem at its path inside the record; a syntax error as `.malformedJSON`.
  init(_ e: JSONError) {
    switch e.problem {
    case .syntax: self = .malformedJSON(e.reason)
    case .missing: self = .missingField(e.path)
    case .unknownKey: self = .unknownField(e.path)
    case .wrongType, .invalid: self = .invalidField(e.path, e.reason)
    }
  }
}

/// A record-level problem before the file and line are known; `DatasetReader` adds them.
struct RecordProblem: Error {
  let problem: DatasetError.Problem
  init(_ problem: DatasetError.Problem) { self.problem = problem }
}
