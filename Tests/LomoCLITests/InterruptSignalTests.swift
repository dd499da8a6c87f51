import Foundation
import XCTest

@testable import LomoCLI

/// The signals `lomo train` catches, raised in this process.
final class InterruptSignalTests: XCTestCase {
  /// SIGUSR1 asks the run to stop; a copy that arrives after training ended (mpirun forwards
  /// it to the ranks one by one) is ignored instead of killing the process mid-save.
  func testSIGUSR1IsCaughtDuringTrainingAndIgnoredAfter() throws {
    let interrupt = InterruptSignal()
    XCTAssertFalse(interrupt.wasReceived)
    // The source registers asynchronously; until then the signal is ignored, so send it again.
    let deadline = Date().addingTimeInterval(5)
    while !interrupt.wasReceived && Date() < deadline {
      kill(getpid(), SIGUSR1)
      usleep(20_000)
    }
    XCTAssertTrue(interrupt.wasReceived, "the handler saw SIGUSR1")
    interrupt.stop()
    // Its default action would end this test process here.
    kill(getpid(), SIGUSR1)
    usleep(50_000)
    var action = sigaction()
    sigaction(SIGUSR1, nil, &action)
    XCTAssertEqual(unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self), unsafeBitCast(SIG_IGN, to: Int.self))
    signal(SIGUSR1, SIG_DFL)
  }
}
