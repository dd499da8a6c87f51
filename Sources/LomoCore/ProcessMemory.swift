#if canImport(Glibc)
  import Glibc
#endif

/// The process's memory as the kernel sees it (Linux `/proc/self/status`), to set beside the
/// `MemoryLedger`'s accounting: RSS = ledger live bytes + runtime, code and allocator overhead.
public enum ProcessMemory {
  /// Current resident set size (VmRSS) in bytes, or nil where /proc is unavailable.
  public static var residentBytes: Int? { statusField("VmRSS:") }

  /// Peak resident set size (VmHWM) in bytes, or nil where /proc is unavailable.
  public static var peakResidentBytes: Int? { statusField("VmHWM:") }

  private static func statusField(_ name: String) -> Int? {
    guard let file = fopen("/proc/self/status", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
      let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      guard text.hasPrefix(name) else { continue }
      // "VmRSS:     12345 kB"
      let digits = text.dropFirst(name.count).filter(\.isNumber)
      return Int(digits).map { $0 * 1024 }
    }
    return nil
  }
}
