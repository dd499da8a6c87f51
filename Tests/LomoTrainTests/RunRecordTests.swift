import Foundation
import LomoCore
@testable import LomoTrain
import LomoTestSupport
import XCTest

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// The run record reads back as written, the data fingerprint counts lines as `wc -l` would
/// (plus an unterminated last line), the plot is well-formed SVG with one point per step, and
/// the model card states what the record holds.
final class RunRecordTests: XCTestCase {
  func record(_ dir: TemporaryDirectory) throws -> RunRecord {
    let data = try dir.write("{\"text\": \"a\"}\n{\"text\": \"b\"}", "data.jsonl")
    var options = TrainingOptions(optimizer: .lomo)
    options.length = .maxSteps(3)
    return RunRecord(command: ["lomo", "train"], model: "base.gguf", name: "chat-ft",
                     data: try DataFingerprint(path: data), evalData: nil, examples: 2, options: options)
  }

  func testTheRecordReadsBackAsWritten() throws {
    let dir = try TemporaryDirectory("run-record")
    var r = try record(dir)
    XCTAssertEqual(r.status, .running)
    XCTAssertEqual(r.data.lines, 2, "an unterminated last line counts")
    XCTAssertEqual(r.data.bytes, 27)
    XCTAssertEqual(r.data.sha256.count, 64)
    let summary = TrainingSummary(steps: 3, totalSteps: 3, seconds: 1.5, tokens: 30, tokensPerSecond: 20,
                                  peakRSSBytes: 1 << 20, peakMemory: [:], peakLedgerBytes: 0, finalLoss: 1.25,
                                  bestScore: 0.75, interrupted: false)
    r.end(.finished, result: RunRecord.Result(
      summary, finalEvaluation: RunRecord.Evaluation(step: 3, score: 0.5, isLoss: false),
      bestEvaluation: RunRecord.Evaluation(step: 0, score: 0.75, isLoss: false),
      finalModel: "out/final/model.gguf", bestModel: "out/best/model.gguf"))
    try r.write(to: dir.url)
    let back = try RunRecord.read(dir("run.json"))
    XCTAssertEqual(back, r)
    XCTAssertEqual(back.result?.bestEvaluation?.accuracy, 0.75)
    XCTAssertNil(back.result?.bestEvaluation?.loss)

    let card = ModelCard.render(back, format: .gguf)
    XCTAssertTrue(card.hasPrefix("# chat-ft\n"), card)
    XCTAssertTrue(card.contains("`base.gguf`"), card)
    XCTAssertTrue(card.contains(r.data.sha256), card)
    XCTAssertTrue(card.contains("| best evaluation | step 0: accuracy 75.00% |"), card)
    XCTAssertTrue(card.contains("| optimizer | lomo, lr 0.03, linear schedule |"), card)
  }

  func testAnUnreadableDataFileIsNamed() {
    XCTAssertThrowsError(try DataFingerprint(path: "/no/such/data.jsonl")) {
      XCTAssertTrue("\($0)".hasPrefix("/no/such/data.jsonl: "), "\($0)")
    }
  }

  /// Collects the elements of an SVG document, failing on malformed XML.
  final class Elements: NSObject, XMLParserDelegate {
    var found: [(String, [String: String])] = []
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String]) {
      found.append((name, attributes))
    }
  }

  func elements(_ svg: String) throws -> [(String, [String: String])] {
    let parser = XMLParser(data: Data(svg.utf8))
    let collected = Elements()
    parser.delegate = collected
    XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
    return collected.found
  }

  func step(_ n: Int, loss: Float) -> StepMetrics {
    StepMetrics(step: n, epoch: 0, loss: loss, learningRate: 0.01 * Float(n), gradientNorm: nil,
                tokensPerSecond: 1, meanTokensPerSecond: 1, rssBytes: 0, lossScale: nil, etaSeconds: 0, skipped: false, totalSteps: 10)
  }

  func testThePlotHasAPointPerStepAndEvaluation() throws {
    var plot = RunPlot()
    for n in 1...10 { plot.record(step(n, loss: n == 4 ? .nan : 3 - 0.2 * Float(n))) }
    for n in [0, 5, 10] { plot.record(PeriodicEvaluation(step: n, score: -2.0 + 0.1 * Double(n), isBest: true), isLoss: true) }
    let found = try elements(plot.svg(title: "a <run> & its \"plot\""))
    let lines = found.filter { $0.0 == "polyline" }.map { $0.1["points"]!.split(separator: " ").count }
    XCTAssertEqual(lines, [9, 3, 10], "loss (the NaN left out), evaluations, learning rate")
    XCTAssertEqual(found.filter { $0.0 == "circle" }.count, 3)
    XCTAssertEqual(plot.evaluations.map(\.value), [2.0, 1.5, 1.0], "eval loss is minus the score")
    XCTAssertEqual(plot.evaluationLabel, "eval loss")
    // The first and last steps sit at the panel's ends.
    let xs = found.first { $0.0 == "polyline" }!.1["points"]!.split(separator: " ").map { Double($0.split(separator: ",")[0])! }
    XCTAssertEqual(xs.first!, RunPlot.left + (1 - 0) / 10 * (RunPlot.width - RunPlot.left - RunPlot.right), accuracy: 0.1)
    XCTAssertEqual(xs.last!, RunPlot.width - RunPlot.right, accuracy: 0.1)
  }

  func testLongRunsAreThinnedToMeans() {
    let points = (1...5000).map { RunPlot.Point(step: $0, value: Double($0)) }
    let thinned = RunPlot.thinned(points)
    XCTAssertLessThanOrEqual(thinned.count, RunPlot.maxPoints)
    XCTAssertEqual(thinned.first!.0, 2, "the mean of steps 1...3")
    XCTAssertEqual(thinned.first!.1, 2)
  }
}
