import Foundation
import LomoFormats

#if canImport(Glibc)
  import Glibc
#endif

/// Messages for the user go to stderr, so that stdout holds only a command's results (tables,
/// JSON, generated text) and can be piped.
enum Diagnostics {
  /// Whether stderr is a terminal (self-overwriting progress lines) or a file or pipe (plain
  /// lines).
  static let isTerminal = isatty(STDERR_FILENO) != 0

  /// Writes `text` to stderr as it is. A stderr that cannot take it (a full disk, a closed
  /// pipe) loses the message, never the run: the error is ignored (FileHandle's `write` would
  /// trap).
  static func write(_ text: String) { _ = FileDescriptorWrite.all(STDERR_FILENO, Array(text.utf8)) }

  /// Writes one line, after `source` and a colon when given (e.g. "bench: measuring the peak").
  static func note(_ message: String, from source: String? = nil) {
    write((source.map { "\($0): " } ?? "") + message + "\n")
  }
}
