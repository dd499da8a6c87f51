import CMPI
import Dispatch

/// The collectives. Buffers hold elements (not bytes); a rank's part of a gathered or
/// scattered buffer is given by `counts` (one entry per rank, the same on every rank), and the
/// parts lie in rank order, each right after the previous. MPI counts are 32-bit: no count or
/// offset may exceed 2³¹ − 1 elements.
extension Communicator {
  /// Waits until every rank has called it.
  public func barrier() {
    guard let comm, size > 1 else { return }
    MPI_Barrier(comm)
  }

  /// Copies `count` elements from `root`'s `buffer` into every rank's.
  public func broadcast<T: CollectiveElement>(_ buffer: UnsafeMutablePointer<T>, count: Int, root: Int = 0) {
    guard let comm, size > 1 else { return }
    traffic.add(Double(count * MemoryLayout<T>.stride) * fraction)
    MPI_Bcast(buffer, Self.int32(count), T.datatype, Int32(root), comm)
  }

  /// Combines every rank's `buffer` [count] element by element and leaves the result in
  /// every rank's `buffer`. Sums are in the element type (f64 sums of partial sums for the
  /// norms and statistics the optimizers reduce).
  public func allReduce<T: ReducibleElement>(_ buffer: UnsafeMutablePointer<T>, count: Int,
                                             _ reduction: Reduction = .sum) {
    guard let comm, size > 1 else { return }
    traffic.add(2 * Double(count * MemoryLayout<T>.stride) * fraction)
    blocking { MPI_Allreduce(lomo_mpi_in_place(), buffer, Self.int32(count), T.datatype, reduction.op, comm) }
  }

  /// The sum of `value` over the ranks.
  public func sum(_ value: Double) -> Double { reduced(value, .sum) }

  /// The sum of `value` over the ranks.
  public func sum(_ value: Int) -> Int { Int(reduced(Int64(value), .sum)) }

  /// Whether `flag` holds on every rank.
  public func all(_ flag: Bool) -> Bool { reduced(Int64(flag ? 1 : 0), .minimum) == 1 }

  /// Whether `flag` holds on some rank.
  public func any(_ flag: Bool) -> Bool { reduced(Int64(flag ? 1 : 0), .maximum) == 1 }

  func reduced<T: ReducibleElement>(_ value: T, _ reduction: Reduction) -> T {
    var v = value
    allReduce(&v, count: 1, reduction)
    return v
  }

  /// Every rank's `mine` [counts[rank]] concatenated in rank order into every rank's `full`
  /// [Σ counts].
  public func allGather<T: CollectiveElement>(_ mine: UnsafePointer<T>, into full: UnsafeMutablePointer<T>,
                                              counts: [Int]) {
    startAllGather(mine, into: full, counts: counts).wait()
  }

  /// Starts `allGather(_:into:counts:)` and returns at once; the buffers must stay untouched
  /// until the request's `wait()` returns.
  public func startAllGather<T: CollectiveElement>(
    _ mine: UnsafePointer<T>, into full: UnsafeMutablePointer<T>, counts: [Int]
  ) -> CollectiveRequest {
    let layout = PartLayout(counts: counts, ranks: size)
    guard let comm, size > 1 else {
      full.update(from: mine, count: counts[0])
      return CollectiveRequest()
    }
    traffic.add(Double(layout.total * MemoryLayout<T>.stride) * fraction)
    let request = CollectiveRequest(layout: layout)
    MPI_Iallgatherv(mine, layout.counts[rank], T.datatype, full, layout.counts, layout.offsets,
                    T.datatype, comm, &request.handle)
    return request
  }

  /// Sums every rank's `full` [Σ counts] element by element and leaves rank r's part of the
  /// sum (elements from Σ counts[..<r], counts[r] of them) in rank r's `mine`.
  public func reduceScatterSum<T: ReducibleElement>(_ full: UnsafePointer<T>, into mine: UnsafeMutablePointer<T>,
                                                    counts: [Int]) {
    let layout = PartLayout(counts: counts, ranks: size)
    guard let comm, size > 1 else {
      mine.update(from: full, count: counts[0])
      return
    }
    traffic.add(Double(layout.total * MemoryLayout<T>.stride) * fraction)
    blocking { MPI_Reduce_scatter(full, mine, layout.counts, T.datatype, lomo_mpi_sum(), comm) }
  }

  /// Every rank's `mine` [counts[rank]] concatenated in rank order into `full` [Σ counts] of
  /// `root` (other ranks may pass nil).
  public func gather<T: CollectiveElement>(_ mine: UnsafePointer<T>, into full: UnsafeMutablePointer<T>?,
                                           counts: [Int], root: Int = 0) {
    let layout = PartLayout(counts: counts, ranks: size)
    guard let comm, size > 1 else {
      full?.update(from: mine, count: counts[0])
      return
    }
    traffic.add(Double(counts[rank] * MemoryLayout<T>.stride))
    MPI_Gatherv(mine, layout.counts[rank], T.datatype, full, layout.counts, layout.offsets,
                T.datatype, Int32(root), comm)
  }

  /// Runs a blocking collective, adding its time to `traffic.blockedSeconds`.
  func blocking(_ call: () -> Int32) {
    let start = DispatchTime.now().uptimeNanoseconds
    _ = call()
    traffic.blockedSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }

  /// (N − 1)/N: the share of a gathered or scattered buffer each rank sends.
  var fraction: Double { Double(size - 1) / Double(size) }

  static func int32(_ n: Int) -> Int32 {
    precondition(n >= 0 && n <= Int(Int32.max), "\(n) elements exceed MPI's 32-bit counts")
    return Int32(n)
  }
}

/// The 32-bit counts and offsets of the ranks' parts of a buffer, in memory of their own
/// (a nonblocking collective reads them until it completes).
final class PartLayout {
  let counts: UnsafeMutablePointer<Int32>
  let offsets: UnsafeMutablePointer<Int32>
  let total: Int

  init(counts parts: [Int], ranks: Int) {
    precondition(parts.count == ranks, "\(parts.count) part counts for \(ranks) ranks")
    counts = .allocate(capacity: ranks)
    offsets = .allocate(capacity: ranks)
    var at = 0
    for (r, c) in parts.enumerated() {
      counts[r] = Communicator.int32(c)
      offsets[r] = Communicator.int32(at)
      at += c
    }
    _ = Communicator.int32(at)
    total = at
  }

  deinit {
    counts.deallocate()
    offsets.deallocate()
  }
}
