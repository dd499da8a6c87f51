import LomoTrain
import XCTest

final class DataOrderTests: XCTestCase {
  let lengths = (0..<203).map { ($0 * 37) % 61 + 3 }

  func testOrderIsAPureFunctionOfSeedAndEpoch() {
    let a = DataOrder.batches(lengths: lengths, batchSize: 4, seed: 5, epoch: 2, groupChunkBatches: 10)
    let b = DataOrder.batches(lengths: lengths, batchSize: 4, seed: 5, epoch: 2, groupChunkBatches: 10)
    let otherEpoch = DataOrder.batches(lengths: lengths, batchSize: 4, seed: 5, epoch: 3, groupChunkBatches: 10)
    let otherSeed = DataOrder.batches(lengths: lengths, batchSize: 4, seed: 6, epoch: 2, groupChunkBatches: 10)
    XCTAssertEqual(a, b)
    XCTAssertNotEqual(a, otherEpoch)
    XCTAssertNotEqual(a, otherSeed)
  }

  func testEveryExampleOncePerEpochAndOnlyTheLastBatchOfAChunkShort() {
    let batches = DataOrder.batches(lengths: lengths, batchSize: 4, seed: 1, epoch: 0, groupChunkBatches: 10)
    XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(lengths.indices))
    // 203 = 5 chunks of 40 + 3: 50 full batches and one of 3.
    XCTAssertEqual(batches.count, 51)
    XCTAssertEqual(batches.filter { $0.count != 4 }.map(\.count), [3])
  }

  func testLengthGroupingCutsPadding() {
    func padding(_ batches: [[Int]]) -> Int {
      batches.reduce(0) { sum, b in
        let m = b.map { lengths[$0] }.max()!
        return sum + b.reduce(0) { $0 + m - lengths[$1] }
      }
    }
    let grouped = DataOrder.batches(lengths: lengths, batchSize: 4, seed: 1, epoch: 0, groupChunkBatches: 50)
    let ungrouped = DataOrder.batches(lengths: lengths, batchSize: 4, seed: 1, epoch: 0, groupChunkBatches: 1)
    // Within one chunk, batches are cut from a length-sorted list.
    for batch in grouped {
      let l = batch.map { lengths[$0] }
      XCTAssertEqual(l, l.sorted(by: >))
    }
    XCTAssertLessThan(padding(grouped) * 5, padding(ungrouped))
    // The batches themselves are shuffled, not sorted by length.
    let firsts = grouped.map { lengths[$0[0]] }
    XCTAssertNotEqual(firsts, firsts.sorted(by: >))
  }
}
