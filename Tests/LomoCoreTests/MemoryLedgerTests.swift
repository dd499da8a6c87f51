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

final class ProcessMemoryTests: XCTestCase {
  /// The ledger's bytes must show up in the RSS once written (large buffers are fresh kernel
  /// mappings, never recycled heap), and freeing a large buffer returns it to the kernel.
  func testLedgerAgreesWithResidentSetSize() throws {
    guard let before = ProcessMemory.residentBytes else { throw XCTSkip("no /proc/self/status") }
    let ledger = MemoryLedger()
    let bytes = 256 << 20
    var buffer: AlignedBuffer<UInt8>? = AlignedBuffer(count: bytes, category: .activations, ledger: ledger)
    buffer?.fill(1)
    let during = try XCTUnwrap(ProcessMemory.residentBytes)
    XCTAssertEqual(ledger.usage.live[.activations], bytes)
    let grown = during - before
    XCTAssertGreaterThan(grown, bytes * 98 / 100, "RSS grew \(grown) for a \(bytes)-byte buffer")
    XCTAssertLessThan(grown, bytes + (16 << 20), "RSS grew \(grown) for a \(bytes)-byte buffer")
    XCTAssertEqual(buffer?.count, bytes)
    buffer = nil
    let after = try XCTUnwrap(ProcessMemory.residentBytes)
    XCTAssertLessThan(after - before, 16 << 20, "memory not returned after free")
    // The kernel updates the high-water mark lazily (per-CPU RSS counters), so allow 1 MiB.
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(ProcessMemory.peakResidentBytes), during - (1 << 20))
  }
}
