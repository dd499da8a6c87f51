/// A model that cannot be loaded, naming the file and what to fix.
public struct ModelLoadError: Error, CustomStringConvertible, Equatable {
  public let path: String
  public let problem: String

  public init(path: String, problem: String) {
    self.path = path
    self.problem = problem
  }

  public var description: String { "\(path): \(problem)" }
}
