/// The merge loop shared by both models: symbols in a linked list, candidate pairs in a binary
/// min-heap ordered by (rank, position), as Hugging Face's `BPE::merge_word`. A popped pair is
/// applied only if the two symbols are still neighbours and still form a pair of that rank.
struct MergeTable {
  /// (left id << 32 | right id) -> (rank << 32 | merged id)
  var table: [UInt64: UInt64] = [:]

  @inline(__always)
  static func key(_ l: Int32, _ r: Int32) -> UInt64 { UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r)) }

  @inline(__always)
  func lookup(_ l: Int32, _ r: Int32) -> (rank: UInt32, id: Int32)? {
    guard let v = table[MergeTable.key(l, r)] else { return nil }
    return (UInt32(truncatingIfNeeded: v >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: v)))
  }

  mutating func insert(_ l: Int32, _ r: Int32, rank: UInt32, id: Int32) {
    let k = MergeTable.key(l, r)
    if table[k] == nil { table[k] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: id)) }
  }

  /// Adds the merge `left right` of rank `rank`, looking up both sides and their concatenation by
  /// exact bytes. `scratch` is reused for the concatenation; `merge` names it in errors.
  mutating func insert(
    rank: Int, _ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer, vocab: VocabIndex,
    scratch: inout [UInt8], merge: @autoclosure () -> String
  ) throws {
    func fail(_ reason: String) -> TokenizerError { .invalidMerge(index: rank, merge: merge(), reason: reason) }
    func show(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self).debugDescription }
    guard !left.isEmpty, !right.isEmpty else { throw fail("not of the form \"left right\"") }
    guard let l = vocab.id(left) else { throw fail("\(show(left)) is not in the vocabulary") }
    guard let r = vocab.id(right) else { throw fail("\(show(right)) is not in the vocabulary") }
    scratch.removeAll(keepingCapacity: true)
    scratch.append(contentsOf: left)
    scratch.append(contentsOf: right)
    guard let m = vocab.id(scratch) else {
      throw scratch.withUnsafeBytes { fail("result \(show($0)) is not in the vocabulary") }
    }
    insert(l, r, rank: UInt32(rank), id: m)
  }

  /// Merges `ids` in place (the initial symbols) and returns the final ids.
  func merge(_ ids: inout [Int32]) {
    let n = ids.count
    if n < 2 { return }
    var next = [Int32](unsafeUninitializedCapacity: n) { b, c in
      for i in 0..<n { b[i] = Int32(i + 1) }
      b[n - 1] = -1
      c = n
    }
    var prev = [Int32](unsafeUninitializedCapacity: n) { b, c in
      for i in 0..<n { b[i] = Int32(i - 1) }
      c = n
    }
    var alive = [Bool](repeating: true, count: n)
    var heap: [UInt64] = []
    heap.reserveCapacity(n)
    func push(_ v: UInt64) {
      heap.append(v)
      var c = heap.count - 1
      while c > 0 {
        let p = (c - 1) >> 1
        if heap[p] <= heap[c] { break }
        heap.swapAt(p, c)
        c = p
      }
    }
    func pop() -> UInt64 {
      let top = heap[0]
      let last = heap.removeLast()
      if !heap.isEmpty {
        heap[0] = last
        var p = 0
        let m = heap.count
        while true {
          let l = 2 * p + 1
          if l >= m { break }
          var c = l
          if l + 1 < m && heap[l + 1] < heap[l] { c = l + 1 }
          if heap[p] <= heap[c] { break }
          heap.swapAt(p, c)
          p = c
        }
      }
      return top
    }
    for i in 0..<(n - 1) {
      if let m = lookup(ids[i], ids[i + 1]) { push(UInt64(m.rank) << 32 | UInt64(i)) }
    }
    while !heap.isEmpty {
      let top = pop()
      let rank = UInt32(truncatingIfNeeded: top >> 32)
      let i = Int(UInt32(truncatingIfNeeded: top))
      guard alive[i] else { continue }
      let j = Int(next[i])
      guard j >= 0, let m = lookup(ids[i], ids[j]), m.rank == rank else { continue }
      ids[i] = m.id
      alive[j] = false
      let k = next[j]
      next[i] = k
      if k >= 0 { prev[Int(k)] = Int32(i) }
      let p = Int(prev[i])
      if p >= 0, let mp = lookup(ids[p], ids[i]) { push(UInt64(mp.rank) << 32 | UInt64(p)) }
      if k >= 0, let mn = lookup(ids[i], ids[Int(k)]) { push(UInt64(mn.rank) << 32 | UInt64(i)) }
    }
    var out: [Int32] = []
    out.reserveCapacity(n)
    var i = 0
    while i >= 0 {
      out.append(ids[i])
      i = Int(next[i])
    }
    ids = out
  }
}
