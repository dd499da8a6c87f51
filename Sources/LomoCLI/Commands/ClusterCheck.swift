import ArgumentParser
import Foundation
import LomoCore
import LomoDistributed

/// `lomo cluster-check`: whether the ranks of an `mpirun` job reach each other, before a long
/// run depends on it: every collective lomo uses, on known values (uneven parts included), and
/// the time of the large ones.
struct ClusterCheck: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cluster-check",
    abstract: "Check that the ranks of an mpirun job reach each other (collectives and their speed).",
    discussion: """
      Run it as `mpirun -n N [--hostfile FILE] lomo cluster-check`. Every rank runs each
      collective lomo's sharded training uses (all-reduce, all-gather, nonblocking all-gather,
      reduce-scatter, broadcast, gather) on values whose result is known, with parts of unequal
      size, and checks what it received; then it times an all-gather and a reduce-scatter of
      --megabytes. Rank 0 prints the ranks, their hosts and the timings; a rank that receives
      a wrong value names itself, the collective and the element, and the status is 1.
      Without mpirun it checks a world of one.
      """)

  @Option(help: "Size of the timed all-gather and reduce-scatter, in MiB of f32.")
  var megabytes = 16

  @Option(help: "Timed repeats of each; the median is printed.")
  var repeats = 5

  func validate() throws {
    if megabytes < 1 || megabytes > 1024 { throw ValidationError("--megabytes must be in 1...1024") }
    if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
  }

  func run() throws {
    let world = Communicator.world
    let hosts = world.hostNames()
    if world.rank == 0 {
      print("world of \(world.size) rank\(world.size == 1 ? "" : "s"):")
      for (r, host) in hosts.enumerated() { print("  rank \(r) on \(host)") }
    }
    let failures = CollectiveCheck.run(world)
    for failure in failures { Diagnostics.note(failure, from: "rank \(world.rank)") }
    guard world.all(failures.isEmpty) else {
      throw CommandError("cluster-check: a collective gave wrong values (see the ranks' messages)")
    }
    if world.rank == 0 { print("collectives: all-reduce, all-gather, nonblocking all-gather, reduce-scatter, broadcast, gather agree on every rank") }
    let timings = CollectiveCheck.time(world, floats: megabytes << 18, repeats: repeats)
    if world.rank == 0 {
      for (name, seconds) in timings {
        let gbps = Double(megabytes << 20) / seconds / 1e9
        print(String(format: "%@ of %d MiB: %.2f ms (%.2f GB/s of the whole buffer)", name, megabytes, seconds * 1e3, gbps))
      }
    }
  }
}

/// The checks and timings of `lomo cluster-check`.
enum CollectiveCheck {
  /// Runs every collective on known values; returns what differed on this rank.
  static func run(_ world: Communicator) -> [String] {
    let n = world.size, r = world.rank
    var failures: [String] = []
    func expect(_ name: String, _ got: [Float], _ want: [Float]) {
      if let i = got.indices.first(where: { got[$0] != want[$0] }) {
        failures.append("\(name): element \(i) is \(got[i]), expected \(want[i])")
      }
    }
    // Rank r's part has r + 1 elements: the parts are unequal.
    let counts = (0..<n).map { $0 + 1 }, total = counts.reduce(0, +)
    let offsets = counts.indices.map { counts[..<$0].reduce(0, +) }
    func part(_ rank: Int) -> [Float] { (0..<counts[rank]).map { Float(rank * 1000 + $0) } }
    let gathered = (0..<n).flatMap(part)

    var sums: [Double] = [Double(r + 1), -Double(r)]
    world.allReduce(&sums, count: 2)
    expect("all-reduce sum", sums.map(Float.init), [Float(n * (n + 1) / 2), -Float(n * (n - 1) / 2)])
    var maximum: Float = Float(r)
    world.allReduce(&maximum, count: 1, .maximum)
    expect("all-reduce max", [maximum], [Float(n - 1)])
    if world.all(r >= 0) != true || world.any(r == n - 1) != true {
      failures.append("all-reduce of flags: wrong answer")
    }

    var full = [Float](repeating: -1, count: total)
    world.allGather(part(r), into: &full, counts: counts)
    expect("all-gather", full, gathered)

    var later = [Float](repeating: -1, count: total)
    let mine = part(r)
    mine.withUnsafeBufferPointer { m in
      later.withUnsafeMutableBufferPointer { l in
        world.startAllGather(m.baseAddress!, into: l.baseAddress!, counts: counts).wait()
      }
    }
    expect("nonblocking all-gather", later, gathered)

    // Every rank contributes rank + index + 1 at each index: the sum is known.
    let contribution = (0..<total).map { Float(r + $0 + 1) }
    var scattered = [Float](repeating: -1, count: counts[r])
    world.reduceScatterSum(contribution, into: &scattered, counts: counts)
    expect("reduce-scatter", scattered, (0..<counts[r]).map { i in
      let at = offsets[r] + i
      return Float(n * (at + 1) + n * (n - 1) / 2)
    })

    var broadcast = r == n - 1 ? [Float(7), 8, 9] : [Float](repeating: 0, count: 3)
    world.broadcast(&broadcast, count: 3, root: n - 1)
    expect("broadcast", broadcast, [7, 8, 9])

    var atRoot = [Float](repeating: -1, count: total)
    atRoot.withUnsafeMutableBufferPointer { root in
      world.gather(part(r), into: r == 0 ? root.baseAddress! : nil, counts: counts, root: 0)
    }
    if r == 0 { expect("gather", atRoot, gathered) }
    return failures
  }

  /// Median seconds of an all-gather and a reduce-scatter of `floats` f32 in equal parts.
  static func time(_ world: Communicator, floats: Int, repeats: Int) -> [(String, Double)] {
    let n = world.size
    let counts = (0..<n).map { floats / n + ($0 < floats % n ? 1 : 0) }
    let full = AlignedBuffer<Float>(count: floats, category: .scratch)
    let part = AlignedBuffer<Float>(count: counts[world.rank], category: .scratch)
    func median(_ body: () -> Void) -> Double {
      body()
      let samples = (0..<repeats).map { _ in
        world.barrier()
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
      }
      return samples.sorted()[samples.count / 2]
    }
    return [
      ("all-gather", median { world.allGather(part.pointer, into: full.pointer, counts: counts) }),
      ("reduce-scatter", median { world.reduceScatterSum(full.pointer, into: part.pointer, counts: counts) }),
    ]
  }
}
