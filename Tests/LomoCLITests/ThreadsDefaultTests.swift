import Foundation
import LomoCore
import XCTest

@testable import LomoCLI

/// The default thread count: every core in one process; under mpirun the cores shared evenly
/// by the ranks the launcher started on this machine (so they do not oversubscribe it).
final class ThreadsDefaultTests: XCTestCase {
  func testRanksOnOneMachineShareItsCores() throws {
    XCTAssertEqual(try ThreadsOption.parse([]).count, Threads.hardwareCount)
    setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2", 1)
    defer { unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE") }
    XCTAssertEqual(try ThreadsOption.parse([]).count, max(1, Threads.hardwareCount / 2))
    XCTAssertEqual(try ThreadsOption.parse(["--threads", "3"]).count, 3, "an explicit count stays")
  }
}
