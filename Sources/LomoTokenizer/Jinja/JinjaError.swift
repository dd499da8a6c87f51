/// A template that cannot be parsed or rendered: what went wrong and on which line of the
/// template source (1-based).
public struct JinjaError: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The template text is not valid (in the subset lomo implements): found at parse time.
    case syntax
    /// Rendering failed: a type error, an undefined value used as data, an unknown filter.
    case runtime
    /// The template called `raise_exception(message)`; `message` is its argument.
    case raised
    /// Rendering exceeded a bound (output size, work, nesting), as hostile templates would.
    case limit
  }

  public let kind: Kind
  public let line: Int
  public let message: String

  public init(_ kind: Kind, line: Int, _ message: String) {
    self.kind = kind
    self.line = line
    self.message = message
  }

  public var description: String {
    switch kind {
    case .raised: "line \(line): the template raised an exception: \(message)"
    default: "line \(line): \(message)"
    }
  }
}
