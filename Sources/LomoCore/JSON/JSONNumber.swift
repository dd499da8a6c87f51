/// A JSON number as its literal text, so that integers of any width read back exactly and a
/// float reads back as the value that was written.
///
/// Written numbers are the shortest decimal that reads back as the value (Swift's
/// `description`: `1e-05` for `Float(1e-5)`, not `9.999999747378752e-06`), and integral values
/// below 2^53 in magnitude print without a fraction or exponent (`10000`, not `10000.0`;
/// negative zero as `-0`).
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
  /// An RFC 8259 number literal.
  public let text: String

  /// `text` must be a valid literal; the parser checks that before calling this.
  init(literal text: String) { self.text = text }

  public init<T: BinaryInteger>(_ value: T) { text = String(value) }

  /// nil for infinities and NaN, which JSON cannot represent.
  public init?(_ value: Double) {
    guard let text = Self.literal(value) else { return nil }
    self.text = text
  }

  /// nil for infinities and NaN. The shortest decimal that reads back as this `Float`.
  public init?(_ value: Float) {
    guard let text = Self.literal(value) else { return nil }
    self.text = text
  }

  private static func literal<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F) -> String? {
    guard value.isFinite else { return nil }
    if value == 0 { return value.sign == .minus ? "-0" : "0" }
    if value == value.rounded(), abs(value) < 0x1p53 { return String(Int64(value)) }
    return value.description
  }

  public var description: String { text }

  /// The nearest `Double` (correctly rounded from the literal).
  public var double: Double { Double(text) ?? .nan }

  /// The nearest `Float`, rounded once from the literal (not through `Double`).
  public var float: Float { Float(text) ?? .nan }

  /// The value as a `T` when it is an integer that `T` holds exactly: an integer literal in
  /// range, or a literal with a fraction or exponent whose value is integral and below 2^53
  /// in magnitude (`3.0`, `1e3`). nil otherwise.
  public func integer<T: FixedWidthInteger>(_ type: T.Type = Int.self) -> T? {
    if isIntegerLiteral { return T(text) }
    let d = double
    guard d == d.rounded(), abs(d) < 0x1p53 else { return nil }
    return T(exactly: d)
  }

  /// Digits with an optional minus sign, no fraction or exponent.
  var isIntegerLiteral: Bool {
    !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
  }
}

extension JSONValue {
  /// A number, or null for infinities and NaN (JSON has neither).
  public init(_ value: Double) { self = JSONNumber(value).map(JSONValue.number) ?? .null }

  /// A number (the shortest decimal that reads back as `value`), or null for infinities and NaN.
  public init(_ value: Float) { self = JSONNumber(value).map(JSONValue.number) ?? .null }

  public init<T: BinaryInteger>(_ value: T) { self = .number(JSONNumber(value)) }
}
