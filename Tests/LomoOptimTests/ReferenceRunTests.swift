import LomoCore
import LomoModel
import LomoOptim
import LomoTestSupport
import XCTest

/// k steps of LOMO (plain, norm clipping, value clipping, weight decay) and AdaLomo on the
/// tiny fixture model against PyTorch + lomo-optim 0.1.1 (scripts/make_optimizer_fixtures.py),
/// with the untied LM head and embedding handed over whole and in row slices (`sliceRows`:
/// 64 rows cut the tiny model's 256 into four).
final class ReferenceRunTests: XCTestCase {
  func check(_ name: String, sliceRows: Int? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
    let fx = try OptimizerFixture.load()
    let run = try XCTUnwrap(fx.runs[name], "fixture has no run \(name)")
    let params = try OptimizerFixture.loadParameters()
    let initial = params.all.map { ($0.id, $0.floats) }
    let ledger = MemoryLedger()
    let model = LlamaModel(parameters: params, ledger: ledger)
    model.vocabularySliceRows = sliceRows
    let optimizer: any StepOptimizer
    switch run.kind {
    case "lomo":
      optimizer = LOMO(weightDecay: run.weightDecay ?? 0, clipGradValue: run.clipGradValue ?? 0)
    case "adalomo":
      optimizer = AdaLomo(parameters: params, options: AdaLomo.Options(
        weightDecay: run.weightDecay ?? 0, lossScale: run.lossScale ?? 1024))
    default:
      return XCTFail("unknown optimizer \(run.kind)", file: file, line: line)
    }
    let driver = LomoStep(model: model, optimizer: optimizer,
                          clipping: run.clipGradNorm.map { .globalNorm($0) } ?? .none)
    for k in 0..<fx.steps {
      let report = driver.step(tokens: fx.tokens, targets: fx.targets, batch: fx.batch, time: fx.time,
                               learningRate: run.lr)
      XCTAssertFalse(report.skipped, file: file, line: line)
      XCTAssertEqual(Double(report.loss), run.losses[k], accuracy: 2e-5 * run.losses[k],
                     "\(name) loss at step \(k)", file: file, line: line)
      if !run.totalNorms.isEmpty {
        let norm = try XCTUnwrap(report.gradientNorm, file: file, line: line)
        XCTAssertEqual(norm, run.totalNorms[k], accuracy: 1e-5 * run.totalNorms[k],
                       "\(name) global norm at step \(k)", file: file, line: line)
        XCTAssertLessThan(report.clipCoefficient, 1, "clipping must engage", file: file, line: line)
        XCTAssertEqual(report.backwardPasses, 2, file: file, line: line)
      } else {
        XCTAssertEqual(report.backwardPasses, 1, file: file, line: line)
      }
    }
    let final = model.loss(tokens: fx.tokens, targets: fx.targets, batch: fx.batch, time: fx.time)
    XCTAssertEqual(Double(final.meanLoss), run.finalLoss, accuracy: 2e-5 * run.finalLoss,
                   "\(name) loss after the last step", file: file, line: line)

    let expected = try OptimizerFixture.finalParameters(of: name, config: params.config)
    var worst = 0.0, moved = 0.0
    for (id, start) in initial {
      let actual = params[id].floats, reference = try XCTUnwrap(expected[id])
      XCTAssertNil(allClose(actual, reference, atol: 1e-5, rtol: 1e-5, "\(name) \(id)"),
                   file: file, line: line)
      worst = max(worst, maxAbsDifference(actual, reference))
      moved = max(moved, maxAbsDifference(start, reference))
    }
    // Sliced, no gradient buffer held the whole [V, C].
    let vocabularyBytes = params.config.vocabSize * params.config.hiddenSize * 4
    if sliceRows != nil {
      XCTAssertLessThan(ledger.usage.peak[.gradients] ?? 0, vocabularyBytes, file: file, line: line)
    } else {
      XCTAssertGreaterThanOrEqual(ledger.usage.peak[.gradients] ?? 0, vocabularyBytes, file: file, line: line)
    }
    // The comparison means something only if the run moved the weights far beyond tolerance.
    XCTAssertGreaterThan(moved, 1e-3, "\(name): reference barely moved", file: file, line: line)
    print("\(name): max |swift - torch| = \(worst), max |reference - initial| = \(moved)")
  }

  func testLOMOPlain() throws { try check("lomo") }
  func testLOMOWithGlobalNormClipping() throws { try check("lomo_clipnorm") }
  func testLOMOWithValueClipping() throws { try check("lomo_clipvalue") }
  func testLOMOWithWeightDecay() throws { try check("lomo_weightdecay") }
  func testAdaLomo() throws { try check("adalomo") }
  func testAdaLomoWithWeightDecay() throws { try check("adalomo_weightdecay") }

  func testLOMOInVocabularySlices() throws { try check("lomo", sliceRows: 64) }
  func testLOMOWithGlobalNormClippingInVocabularySlices() throws { try check("lomo_clipnorm", sliceRows: 64) }
  func testLOMOWithWeightDecayInVocabularySlices() throws { try check("lomo_weightdecay", sliceRows: 64) }
  func testAdaLomoInVocabularySlices() throws { try check("adalomo", sliceRows: 64) }
  func testAdaLomoWithWeightDecayInVocabularySlices() throws { try check("adalomo_weightdecay", sliceRows: 64) }
}
