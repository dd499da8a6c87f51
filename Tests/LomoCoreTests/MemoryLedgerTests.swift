import LomoCore
import XCTest

final class MemoryLedgerTests: XCTestCase {
  func testBuffersRegisterAndReleaseByCategory() {
    let ledger = MemoryLedger()
    do {
      let params = AlignedBuffer<Float>(count: 1000, category: .parameters, ledger: ledger)
      let grads = AlignedBuffer<UInt16>(count: 10, category: .gradients, ledger: ledger)
      XCTAssertEqual(ledger.usage.live[.parameters], 4000)
      XCTAssertEqual(ledger.usage.live[.gradients], 20)
      XCTAssertEqual(ledger.usage.liveTotal, 4020)
      XCTAssertEqual(params.count + grads.count, 1010)
    }
    XCTAssertEqual(ledger.usage.liveTotal, 0)
    XCTAssertEqual(ledger.usage.peak[.parameters], 4000)
    XCTAssertEqual(ledger.usage.peakTotal, 4020)
  }

  func testPeakTotalIsPeakOfSumNotSumOfPeaks() {
    let ledger = MemoryLedger()
    do { _ = AlignedBuffer<Float>(count: 100, category: .activations, ledger: ledger) }
    do { _ = AlignedBuffer<Float>(count: 100, category: .scratch, ledger: ledger) }
    XCTAssertEqual(ledger.usage.peakTotal, 400)
    ledger.resetPeaks()
    XCTAssertEqual(ledger.usage.peak[.activations], 0)
  }

  func testScratchBufferGrowsAndIsAccounted() {
    let ledger = MemoryLedger()
    let scratch = ScratchBuffer<Float>(ledger: ledger)
    _ = scratch.pointer(count: 10)
    _ = scratch.pointer(count: 5)
    XCTAssertEqual(scratch.capacity, 10)
    _ = scratch.pointer(count: 100)
    XCTAssertEqual(ledger.usage.live[.scratch], 400)
    // The old buffer was released before the new one was allocated.
    XCTAssertEqual(ledger.usage.peak[.scratch], 400)
  }

  func testBufferMemoryIsZeroedAndAligned() {
    let b = AlignedBuffer<Float>(count: 33, category: .scratch, ledger: MemoryLedger())
    XCTAssertEqual(Int(bitPattern: b.pointer) % 64, 0)
    XCTAssertTrue(b.array.allSatisfy { $0 == 0 })
  }
}
