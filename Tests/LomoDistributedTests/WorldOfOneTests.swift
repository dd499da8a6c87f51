import LomoDistributed
import XCTest

/// A process that no launcher started is a world of one: every collective is local, MPI is
/// never initialised, and the parts of a buffer are the whole buffer. (Several ranks are
/// tested through `mpirun` in LomoCLITests' MPIProcessTests.)
final class WorldOfOneTests: XCTestCase {
  func testTheWorldOfAnUnlaunchedProcessHasOneRankAndNoMPI() {
    let world = Communicator.world
    XCTAssertEqual(world.rank, 0)
    XCTAssertEqual(world.size, 1)
    XCTAssertFalse(world.isDistributed)
    XCTAssertFalse(Communicator.isRunning)
  }

  func testCollectivesOfOneRankCopyOrKeepTheValues() {
    let world = Communicator()
    var values: [Double] = [1.5, -2]
    world.allReduce(&values, count: 2)
    XCTAssertEqual(values, [1.5, -2])
    XCTAssertEqual(world.sum(3.25), 3.25)
    XCTAssertEqual(world.sum(7), 7)
    XCTAssertTrue(world.all(true))
    XCTAssertFalse(world.all(false))
    XCTAssertFalse(world.any(false))

    let part: [Float] = [1, 2, 3]
    var full = [Float](repeating: 0, count: 3)
    world.allGather(part, into: &full, counts: [3])
    XCTAssertEqual(full, part)
    var mine = [Float](repeating: 0, count: 3)
    world.reduceScatterSum(part, into: &mine, counts: [3])
    XCTAssertEqual(mine, part)
    var gathered = [Float](repeating: 0, count: 3)
    world.gather(part, into: &gathered, counts: [3])
    XCTAssertEqual(gathered, part)
    XCTAssertEqual(world.traffic, Traffic(), "a world of one sends nothing")
  }
}
