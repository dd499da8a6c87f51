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
}
