/// A model file that could not be written, naming the destination and what went wrong.
/// Whatever the problem, the destination is as it was before the write began and no
/// temporary file is left behind.
public struct FileWriteError: Error, CustomStringConvertible, Equatable, Sendable {
  public enum Problem: Equatable, Sendable {
    /// The destination exists and the caller did not ask to overwrite it.
    case destinationExists
    /// A system call failed: the operation (`open`, `write`, `fsync`, `rename`...) on `file`
    /// (the destination or its temporary file) and the system's reason.
    case io(operation: String, file: String, reason: String)
    /// A tensor the caller added is inconsistent: bad shape, values count, name or type.
    case invalidTensor(name: String, reason: String)
    /// A metadata key or value cannot be encoded.
    case invalidMetadata(key: String, reason: String)
    /// The caller's value provider for a tensor threw while the file was being written.
    case tensorSource(name: String, reason: String)
  }

  public let path: String
  public let problem: Problem

  public init(path: String, problem: Problem) {
    self.path = path
    self.problem = problem
  }

  public var description: String {
    switch problem {
    case .destinationExists:
      "\(path): already exists; add --overwrite to replace it"
    case .io(let operation, let file, let reason):
      file == path ? "\(path): \(operation) failed: \(reason)" : "\(path): \(operation) of \(file) failed: \(reason)"
    case .invalidTensor(let name, let reason): "\(path): tensor '\(name)': \(reason)"
    case .invalidMetadata(let key, let reason): "\(path): metadata '\(key)': \(reason)"
    case .tensorSource(let name, let reason): "\(path): reading the values of tensor '\(name)' failed: \(reason)"
    }
  }
}
