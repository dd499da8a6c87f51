import LomoCore
import XCTest

@testable import LomoCLI

/// `lomo bench --matrix` reads each case's `lomo bench --json` output back: what one process
/// writes, the other reads, exactly.
final class BenchResultJSONTests: XCTestCase {
  func testBenchResultRoundTripsThroughItsJSON() throws {
    let c = BenchCase(model: "smollm2-135m", mode: .adalomo, dtype: .bf16, batchSize: 4, seqLen: 512,
                      activationCheckpointing: true, clipGradNorm: 1)
    let result = BenchResult(
      benchCase: c, parameterCount: 134_515_008, warmupSteps: 1, stepSeconds: [1.25, 1.5, 1.0 / 3],
      medianStepSeconds: 1.25, tokensPerSecond: 2048 / 1.25, backwardPasses: 2, modelFLOPsPerStep: 1.2e12,
      achievedGFLOPS: 960, peak: MachinePeak.Measurement(gflops: 956.5, source: "given"), mfu: 0.1,
      peakRSSBytes: 2_755 << 20, ledgerPeakBytes: ["parameters": 538_060_032, "scratch": 0], threads: 2,
      machine: "AMD EPYC, 2 threads", date: "2026-12-02T05:56:06Z")
    let text = try JSONValue(encoding: result).serialized([.sortedKeys])
    let read = try JSONField(JSONValue(parsing: text)).decode(BenchResult.self)
    XCTAssertEqual(read.benchCase, c)
    XCTAssertEqual(read.stepSeconds, result.stepSeconds)
    XCTAssertEqual(read.ledgerPeakBytes, result.ledgerPeakBytes)
    XCTAssertEqual(read.peak.gflops, 956.5)
    XCTAssertEqual(try JSONValue(encoding: read).serialized([.sortedKeys]), text)
  }
}
