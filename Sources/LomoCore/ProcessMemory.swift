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

  /// Resets the peak resident set size (VmHWM) to the current one (Linux: "5" written to
  /// /proc/self/clear_refs), e.g. after a measurement whose buffers are freed, so that the
  /// peak that follows is of what comes after. Whether it was reset.
  @discardableResult
  public static func resetPeakResident() -> Bool {
    guard let file = fopen("/proc/self/clear_refs", "w") else { return false }
    defer { fclose(file) }
    return fputs("5", file) >= 0
  }

  /// Bytes this process has made the storage layer read and write so far (`read_bytes` and
  /// `write_bytes` of Linux `/proc/self/io`: disk traffic, not page-cache hits), or nil
  /// where it is unavailable.
  public static var storageBytes: (read: Int, written: Int)? {
    guard let read = field("read_bytes:", of: "/proc/self/io", scale: 1),
          let written = field("write_bytes:", of: "/proc/self/io", scale: 1) else { return nil }
    return (read, written)
  }

  /// CPU seconds this process has spent so far, in user code and in the kernel on its behalf
  /// (`getrusage`, every thread).
  public static var cpuSeconds: (user: Double, system: Double) {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return (0, 0) }
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return (seconds(usage.ru_utime), seconds(usage.ru_stime))
  }

  private static func statusField(_ name: String) -> Int? { field(name, of: "/proc/self/status", scale: 1024) }

  /// The number after `name` on its line of `path`, times `scale` ("VmRSS:  12345 kB").
  private static func field(_ name: String, of path: String, scale: Int) -> Int? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
      let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      guard text.hasPrefix(name) else { continue }
      let digits = text.dropFirst(name.count).filter(\.isNumber)
      return Int(digits).map { $0 * scale }
    }
    return nil
  }
}
