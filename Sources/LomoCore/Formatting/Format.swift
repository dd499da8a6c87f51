import Foundation

/// Text for numbers people read in tables, progress lines and error messages: byte sizes,
/// large counts and durations (`Format.duration`). One formatter per kind, so every target
/// prints them the same way.
public enum Format {
  /// Bytes in binary units with one decimal: "512 B", "12.0 MiB", "1.5 GiB" (up to TiB;
  /// negative sizes keep their sign).
  public static func bytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(bytes), u = 0
    while abs(v) >= 1024 && u < units.count - 1 {
      v /= 1024
      u += 1
    }
    return u == 0 ? "\(bytes) B" : String(format: "%.1f %@", v, units[u])
  }

  /// Whole mebibytes, rounded: "806" for 845_000_000 bytes (tables whose header says MiB).
  public static func mebibytes(_ bytes: Int) -> String {
    String(format: "%.0f", Double(bytes) / 1_048_576)
  }

  /// A count, in millions with the exact value from a million up: "134.5M (134515008)";
  /// below, the plain number.
  public static func count(_ n: Int) -> String {
    n >= 1_000_000 ? String(format: "%.1fM (%d)", Double(n) / 1e6, n) : "\(n)"
  }

  /// Untrusted text (a key, a tensor name, a value read from a file) fit for one line of an
  /// error message: at most `limit` characters, the end cut to "…" when longer, and every
  /// control, separator-but-space or unassigned scalar written as `\u{XX}`. Printable text
  /// within the limit comes back unchanged, so applying it twice changes nothing.
  public static func excerpt(_ text: String, limit: Int = 80) -> String {
    var pieces: [String] = [], length = 0
    for scalar in text.unicodeScalars {
      let shown = isPrintable(scalar) ? String(scalar) : "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      length += shown.unicodeScalars.count
      pieces.append(shown)
      if length > limit { break }
    }
    guard length > limit else { return pieces.joined() }
    var out = "", kept = 0
    for piece in pieces {
      guard kept + piece.unicodeScalars.count <= limit - 1 else { break }
      out += piece
      kept += piece.unicodeScalars.count
    }
    return out + "…"
  }

  private static func isPrintable(_ s: Unicode.Scalar) -> Bool {
    switch s.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: false
    case .spaceSeparator: s == " "
    default: true
    }
  }
}
