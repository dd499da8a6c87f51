import Foundation
import LomoTestSupport
import XCTest

/// lomo under Open MPI's `mpirun` on this machine: several real processes and their
/// collectives.
final class MPIProcessTests: XCTestCase {
  var scratch: TemporaryDirectory!
  var directory: URL { scratch.url }

  override func setUpWithError() throws {
    scratch = try temporaryDirectory("cli-mpi")
    guard FileManager.default.isExecutableFile(atPath: lomoExecutable.path) else {
      throw XCTSkip("no lomo executable at \(lomoExecutable.path); build it first (swift build)")
    }
  }

  /// `mpirun -n ranks lomo arguments` on localhost (as root too; more ranks than cores).
  func mpirun(_ ranks: Int, _ arguments: [String]) throws -> Outcome {
    try launch(URL(fileURLWithPath: "/usr/bin/env"),
               ["mpirun", "--oversubscribe", "-n", "\(ranks)", lomoExecutable.path] + arguments,
               in: directory,
               environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                             "OMPI_MCA_btl": "self,vader,tcp"])
  }

  func testEveryCollectiveAgreesOnThreeRanks() throws {
    let check = try mpirun(3, ["cluster-check", "--megabytes", "1", "--repeats", "1"])
    XCTAssertEqual(check.status, 0, check.stderr)
    XCTAssertTrue(check.stdout.contains("world of 3 ranks"), check.stdout)
    XCTAssertTrue(check.stdout.contains("rank 2 on "), check.stdout)
    XCTAssertTrue(check.stdout.contains("agree on every rank"), check.stdout)
    XCTAssertEqual(check.stdout.components(separatedBy: "world of").count, 2, "only rank 0 prints")
  }

  /// A rank that fails ends the job: its error names the rank, and mpirun's status is not 0.
  func testAFailingRankEndsEveryRank() throws {
    let start = Date()
    let failed = try mpirun(2, ["cluster-check", "--megabytes", "0"])
    XCTAssertNotEqual(failed.status, 0)
    XCTAssertTrue(failed.stderr.contains("--megabytes must be in 1...1024"), failed.stderr)
    XCTAssertLessThan(Date().timeIntervalSince(start), 60)
  }
}
