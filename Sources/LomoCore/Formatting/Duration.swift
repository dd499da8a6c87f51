import Foundation

extension Format {
  /// How `duration` writes a number of seconds.
  public enum DurationStyle: Sendable {
    /// A clock: "m:ss", and "h:mm:ss" from an hour up (progress lines, ETAs).
    case clock
    /// Seconds with one decimal below a minute ("12.3s"), else minutes and seconds ("2m05s").
    case compact
  }

  /// `seconds` as text in `style`, rounded to whole seconds except below a minute in
  /// `.compact`; "?" for a value that is not finite or is negative (an unknown ETA).
  public static func duration(_ seconds: Double, _ style: DurationStyle) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    switch style {
    case .clock:
      return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String(format: "%d:%02d", s / 60, s % 60)
    case .compact:
      return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : String(format: "%.1fs", seconds)
    }
  }
}
