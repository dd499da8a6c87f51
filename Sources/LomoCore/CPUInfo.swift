import Foundation

/// Fields of Linux's /proc/cpuinfo (those of the first processor listed).
public enum CPUInfo {
  /// The value of `key` ("model name", "vendor_id"), trimmed; nil where the file or the field
  /// is missing.
  public static func field(_ key: String) -> String? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key else { continue }
      return parts[1].trimmingCharacters(in: .whitespaces)
    }
    return nil
  }
}
