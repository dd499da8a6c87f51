import CMPI

/// A collective in flight (`Communicator.startAllGather`). `wait()` blocks until it has
/// completed on this rank; a request dropped without `wait()` waits in deinit, so its buffers
/// are never written after the owner let go of them. Holds the counts and offsets MPI reads
/// until completion.
public final class CollectiveRequest {
  var handle: MPI_Request? = lomo_mpi_request_null()
  /// Kept alive for MPI until completion.
  private let layout: PartLayout?

  init(layout: PartLayout? = nil) { self.layout = layout }

  /// Whether the collective has completed (lets MPI progress it).
  public var isComplete: Bool {
    guard layout != nil else { return true }
    var flag: Int32 = 0
    MPI_Test(&handle, &flag, lomo_mpi_status_ignore())
    return flag != 0
  }

  /// Blocks until the collective has completed on this rank.
  public func wait() {
    guard layout != nil else { return }
    MPI_Wait(&handle, lomo_mpi_status_ignore())
  }

  deinit { wait() }
}
