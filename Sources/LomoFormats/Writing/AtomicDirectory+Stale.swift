import Foundation
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension AtomicDirectory {
  /// What `removeStale(in:)` did with one leftover folder.
  public enum Leftover: Equatable, Sendable {
    /// A staging folder (`.<name>.tmp-<pid>`) of a dead process, removed.
    case removedStaging(String)
    /// An old folder moved aside (`.<name>.old-<pid>`) whose replacement is in place, removed.
    case removedOld(String)
    /// An old folder moved aside by a process that died before its replacement was in place:
    /// the only copy of `<name>`, moved back.
    case restored(String, to: String)
  }

  /// Cleans up after writers that died inside `folder`: the staging (`.<name>.tmp-<pid>`) and
  /// moved-aside (`.<name>.old-<pid>`) folders of processes that no longer run. A folder of a
  /// live process (this one included: it may be writing) is kept, and nothing the user had is
  /// deleted: an old folder whose `<name>` is missing is moved back to `<name>`. Entries that
  /// cannot be removed stay (best effort); returns what was done.
  @discardableResult
  public static func removeStale(in folder: String) -> [Leftover] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    var done: [Leftover] = []
    for entry in entries.sorted() {
      guard let (name, kind, pid) = parse(entry), pid != getpid(), !isAlive(pid) else { continue }
      let path = sibling(folder, entry)
      let original = sibling(folder, name)
      if kind == "old" && !AtomicFileWriter.exists(original) {
        if rename(path, original) == 0 { done.append(.restored(path, to: original)) }
        continue
      }
      guard (try? FileManager.default.removeItem(atPath: path)) != nil else { continue }
      done.append(kind == "old" ? .removedOld(path) : .removedStaging(path))
    }
    return done
  }

  /// Whether a process `pid` exists (one of another user counts: `EPERM`).
  public static func isAlive(_ pid: Int32) -> Bool {
    pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
  }

  /// `.<name>.<kind>-<pid>` → (name, kind, pid) for the kinds "tmp" and "old".
  static func parse(_ entry: String) -> (String, String, Int32)? {
    guard entry.hasPrefix("."), let dash = entry.lastIndex(of: "-"),
          let pid = Int32(entry[entry.index(after: dash)...]), pid > 0
    else { return nil }
    let stem = entry[entry.index(after: entry.startIndex)..<dash]
    for kind in ["tmp", "old"] where stem.hasSuffix("." + kind) {
      let name = String(stem.dropLast(kind.count + 1))
      return name.isEmpty ? nil : (name, kind, pid)
    }
    return nil
  }
}
