/// Rows of text cells rendered as aligned columns:
///
///     TextTable.keyValue([("steps", "40"), ("peak RSS", "806.4 MiB")])
///     // "  steps     40\n  peak RSS  806.4 MiB"
///
/// Every line starts with `indent`; each column is as wide as its widest cell (at least its
/// minimum width) and padded on the side its alignment says; `separator` goes between
/// columns. The last column of a left-aligned table is not padded, so lines carry no trailing
/// spaces. Widths count characters (grapheme clusters), which is right for the ASCII and
/// Latin text lomo prints.
public struct TextTable: Sendable, Equatable {
  public enum Alignment: Sendable, Equatable {
    case left, right
  }

  public struct Column: Sendable, Equatable {
    public var alignment: Alignment
    public var minimumWidth: Int

    public init(_ alignment: Alignment = .left, minimumWidth: Int = 0) {
      self.alignment = alignment
      self.minimumWidth = minimumWidth
    }

    public static var left: Column { Column(.left) }
    public static var right: Column { Column(.right) }
  }

  public var columns: [Column]
  public var rows: [[String]]
  public var indent: String
  public var separator: String

  /// - Precondition: every row has `columns.count` cells.
  public init(columns: [Column], rows: [[String]] = [], indent: String = "", separator: String = "  ") {
    self.columns = columns
    self.rows = rows
    self.indent = indent
    self.separator = separator
  }

  /// Appends one row. - Precondition: it has `columns.count` cells.
  public mutating func append(_ row: [String]) { rows.append(row) }

  /// The width of each column: its widest cell, at least its minimum width.
  public var widths: [Int] {
    columns.indices.map { c in rows.reduce(columns[c].minimumWidth) { max($0, $1[c].count) } }
  }

  /// One line per row, joined with "\n" (no final newline).
  public func render() -> String {
    let widths = self.widths
    return rows.map { row -> String in
      precondition(row.count == columns.count, "row \(row) has \(row.count) cells, the table \(columns.count) columns")
      let cells = row.indices.map { c -> String in
        let isLast = c == row.count - 1
        if columns[c].alignment == .left && isLast { return row[c] }
        return Self.pad(row[c], to: widths[c], columns[c].alignment)
      }
      return indent + cells.joined(separator: separator)
    }.joined(separator: "\n")
  }

  /// `text` padded with spaces to `width` characters, on the right for `.left` and on the
  /// left for `.right`; longer text is returned as it is.
  public static func pad(_ text: String, to width: Int, _ alignment: Alignment = .left) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return alignment == .left ? text + fill : fill + text
  }

  /// Two columns, keys left-aligned to the longest (at least `keyWidth`), the values after
  /// `separator`: the summary tables of `lomo train`, `lomo demo` and memory estimates.
  public static func keyValue(
    _ rows: [(String, String)], indent: String = "  ", separator: String = "  ", keyWidth: Int = 0
  ) -> String {
    TextTable(columns: [Column(.left, minimumWidth: keyWidth), .left], rows: rows.map { [$0.0, $0.1] },
              indent: indent, separator: separator).render()
  }
}
