#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writing bytes to an open file descriptor with `write(2)`: every byte, retrying after a
/// signal. Foundation's non-throwing `FileHandle.write(_:)` traps on a failed write (a full
/// disk); this reports the failure instead.
public enum FileDescriptorWrite {
  /// Writes all of `bytes` to `fd`; returns 0, or the `errno` of the write that failed.
  public static func all(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    guard let base = bytes.baseAddress else { return 0 }
    var done = 0
    while done < bytes.count {
      #if canImport(Glibc)
        let n = Glibc.write(fd, base + done, bytes.count - done)
      #else
        let n = Darwin.write(fd, base + done, bytes.count - done)
      #endif
      if n < 0 {
        if errno == EINTR { continue }
        return errno
      }
      if n == 0 { return EIO }
      done += n
    }
    return 0
  }

  /// Writes all of `bytes` to `fd` (see `all(_:_:)`).
  public static func all(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
    bytes.withUnsafeBytes { all(fd, $0) }
  }

  /// The system's text for `code` ("No space left on device").
  public static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}
