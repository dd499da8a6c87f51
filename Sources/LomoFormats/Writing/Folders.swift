#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Creating the folders a writer needs, with errors that say what is in the way.
public enum Folders {
  /// Creates `path` and its missing parents (like `mkdir -p`); an existing folder is fine.
  /// Throws `.io(operation: "create folder", file:, reason:)` naming the first component that
  /// cannot be created: "exists and is not a folder" for a file in the way, else the system's
  /// reason (read-only file system, permission denied, no space left on device).
  public static func create(_ path: String) throws(FileWriteError) {
    var components: [String] = []
    var prefix = ""
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
      prefix = prefix.isEmpty && !path.hasPrefix("/") ? String(part) : prefix + "/" + part
      components.append(prefix)
    }
    for folder in components {
      var st = stat()
      if stat(folder, &st) == 0 {
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
          throw FileWriteError(path: path, problem: .io(operation: "create folder", file: folder,
                                                        reason: "exists and is not a folder"))
        }
        continue
      }
      if mkdir(folder, 0o755) != 0 && errno != EEXIST {
        throw FileWriteError(path: path, problem: .io(operation: "create folder", file: folder,
                                                      reason: AtomicFileWriter.lastError()))
      }
    }
  }

  /// Creates the folder that contains `path` (see `create`).
  public static func createParent(of path: String) throws(FileWriteError) {
    var trimmed = path
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return }
    if slash == trimmed.startIndex { return }
    try create(String(trimmed[..<slash]))
  }
}
