#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Read-only bytes of a file: memory-mapped from disk, or an owned copy (for in-memory
/// parsing). Unmapped or freed on deinit; pointers into it live as long as this object.
final class MappedBytes: @unchecked Sendable {
  let base: UnsafeRawPointer
  let count: Int
  private let mapped: Bool

  private init(base: UnsafeRawPointer, count: Int, mapped: Bool) {
    self.base = base
    self.count = count
    self.mapped = mapped
  }

  /// Maps `path` read-only. An empty file gives an empty (unmapped) buffer.
  static func map(path: String) throws(GGUFError) -> MappedBytes {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw .io(path: path, description: "cannot open: \(errnoText())") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw .io(path: path, description: "cannot stat: \(errnoText())")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw .io(path: path, description: "not a regular file")
    }
    let size = Int(st.st_size)
    if size == 0 { return copy(UnsafeRawBufferPointer(start: nil, count: 0)) }
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw .io(path: path, description: "cannot mmap \(size) bytes: \(errnoText())")
    }
    return MappedBytes(base: UnsafeRawPointer(p), count: size, mapped: true)
  }

  /// An owned copy of `bytes`.
  static func copy(_ bytes: UnsafeRawBufferPointer) -> MappedBytes {
    let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
    if let src = bytes.baseAddress, bytes.count > 0 {
      p.copyMemory(from: src, byteCount: bytes.count)
    }
    return MappedBytes(base: UnsafeRawPointer(p), count: bytes.count, mapped: false)
  }

  deinit {
    if mapped {
      munmap(UnsafeMutableRawPointer(mutating: base), count)
    } else {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    }
  }
}

private func errnoText() -> String { String(cString: strerror(errno)) }
