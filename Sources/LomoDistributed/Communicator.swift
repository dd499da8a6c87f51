import CMPI
import Dispatch
import Foundation

/// The processes of one training job and the collective operations between them (MPI).
///
/// `Communicator.world` is every rank that `mpirun` started, or, when the process was not
/// started by a launcher, a world of one that never touches MPI: its collectives copy or do
/// nothing, so a single process runs exactly as it would without this layer. Every collective
/// must be called by every rank in the same order (MPI's rule); lomo's model and optimizers do
/// so because every rank runs the same sequence of layers and tensors.
///
/// Errors in MPI end the whole job (MPI's default handler, `MPI_ERRORS_ARE_FATAL`), and so does
/// `abort(_:)`: a failing rank never leaves the others waiting. Only the thread that created
/// the world calls MPI (`MPI_THREAD_FUNNELED`). Not thread-safe.
public final class Communicator: @unchecked Sendable {
  /// This process's index, 0..<size.
  public let rank: Int
  /// The number of ranks.
  public let size: Int
  /// nil for a world of one without MPI.
  let comm: MPI_Comm?
  /// Bytes this rank has sent so far under the volume of bandwidth-optimal collectives (see
  /// `Traffic`).
  public internal(set) var traffic = Traffic()

  /// A world of one: collectives are local.
  public init() {
    rank = 0
    size = 1
    comm = nil
  }

  private init(mpi comm: MPI_Comm) {
    var r: Int32 = 0, n: Int32 = 0
    MPI_Comm_rank(comm, &r)
    MPI_Comm_size(comm, &n)
    rank = Int(r)
    size = Int(n)
    self.comm = comm
  }

  /// The ranks of this job: MPI's world when a launcher started the process (Open MPI's
  /// `mpirun`, or any launcher that sets PMIx/PMI variables), else a world of one.
  public static let world: Communicator = {
    guard launchedByMPI(ProcessInfo.processInfo.environment) else { return Communicator() }
    var provided: Int32 = 0
    MPI_Init_thread(nil, nil, lomo_mpi_thread_funneled(), &provided)
    initialized = true
    return Communicator(mpi: lomo_mpi_comm_world())
  }()

  nonisolated(unsafe) private static var initialized = false

  /// Whether MPI is running in this process (a launcher started it and `world` was used).
  public static var isRunning: Bool { initialized }

  /// The ranks the launcher started on this machine, as it told this process (Open MPI's
  /// OMPI_COMM_WORLD_LOCAL_SIZE), without any MPI call; 1 without a launcher.
  public static var launchedRanksOnThisHost: Int {
    ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init).map { max($0, 1) } ?? 1
  }

  /// Whether `environment` is that of a process an MPI launcher started.
  static func launchedByMPI(_ environment: [String: String]) -> Bool {
    ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
  }

  /// Whether there is more than one rank.
  public var isDistributed: Bool { size > 1 }

  /// Ends MPI cleanly (every rank must call it, after its last collective); nothing for a
  /// world of one. Call once, just before the process exits.
  public static func finalize() {
    guard initialized else { return }
    initialized = false
    MPI_Finalize()
  }

  /// Ends every rank of the job with `status` (after this rank has printed why): MPI_Abort
  /// under a launcher, `exit` in a world of one.
  public static func abort(_ status: Int32) -> Never {
    if initialized { MPI_Abort(lomo_mpi_comm_world(), status) }
    exit(status)
  }

  /// Every rank's host name, in rank order (a collective).
  public func hostNames() -> [String] {
    let width = 64
    var mine = [UInt8](repeating: 0, count: width)
    for (i, byte) in hostName.utf8.prefix(width - 1).enumerated() { mine[i] = byte }
    var all = [UInt8](repeating: 0, count: width * size)
    allGather(mine, into: &all, counts: Array(repeating: width, count: size))
    return (0..<size).map { r in
      String(decoding: all[r * width..<(r + 1) * width].prefix { $0 != 0 }, as: UTF8.self)
    }
  }

  /// How many ranks run on this rank's machine, this one included (a collective): they share
  /// its memory.
  public func ranksOnThisHost() -> Int {
    let name = hostName
    return hostNames().filter { $0 == name }.count
  }

  /// The name of the machine this rank runs on.
  public var hostName: String {
    var buffer = [CChar](repeating: 0, count: 256)
    gethostname(&buffer, buffer.count - 1)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// What a rank sends, counted as bandwidth-optimal (ring) collectives send it: an all-gather
/// or reduce-scatter of an S-byte buffer over N ranks sends (N − 1)/N · S from each rank, an
/// all-reduce twice that, a broadcast or gather of S bytes (N − 1)/N · S on average. This is
/// the measure of the ZeRO paper (a step of ZeRO-3 over Ψ parameters sends 3Ψ of them); the
/// bytes on the wire add headers and depend on the algorithm Open MPI picks.
public struct Traffic: Sendable, Equatable {
  public var bytes: Double = 0
  public var operations = 0
  /// Seconds spent inside the blocking all-reduces and reduce-scatters (waiting for the other
  /// ranks included).
  public var blockedSeconds: Double = 0

  public init() {}

  mutating func add(_ bytes: Double) {
    self.bytes += bytes
    operations += 1
  }
}
