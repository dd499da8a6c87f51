import LomoCore
import LomoModel
import LomoOptim
import XCTest

/// The memory claim of LOMO, proven by the ledger: gradient memory is the largest parameter
/// tensor (plus the [V, C] sum buffer of a tied embedding and the final norm's [C]), optimizer
/// state is zero; with gradient accumulation, one layer's parameters plus the [V, C] sum; the
/// baselines hold full gradients (and AdamW two moments).
final class MemoryLedgerTests: XCTestCase {
  func bytes(_ params: LlamaParameters) -> (total: Int, bound: Int) {
    let total = params.all.reduce(0) { $0 + $1.count * 4 }
    let direct = params.all.filter { !(params.config.tiedEmbeddings && $0.id == .embedding) }
    var bound = (direct.map(\.count).max() ?? 0) * 4 + params.finalNorm.count * 4
    if params.config.tiedEmbeddings { bound += params.embedding.count * 4 }
    return (total, bound)
  }

  func testAccumulatedGradientMemoryIsOneLayerPlusTheVocabularySum() {
    for tied in [false, true] {
      let ledger = MemoryLedger()
      let params = LlamaParameters.random(config: TinyModel.config(tied: tied), dtype: .f32,
                                          seed: 1, ledger: ledger)
      let model = LlamaModel(parameters: params, ledger: ledger)
      let driver = LomoStep(model: model, optimizer: LOMO(), clipping: .globalNorm(0.1))
      let (tokens, targets) = (TinyModel.tokens, TinyModel.targets)
      driver.step(tokens: tokens + tokens, targets: targets + targets, batch: 2 * TinyModel.batch,
                  time: TinyModel.time, microBatches: 4, learningRate: 0.1)
      let layer = params.layers[0]
      let layerBytes = layer.all.reduce(0) { $0 + $1.count * 4 }
      let vocabularyBytes = params.embedding.count * 4
      XCTAssertGreaterThan(layerBytes, vocabularyBytes / 4, "the bound must be able to fail")
      // The layer sum and the [V, C] buffer (the tied sum, or the LM head's then the embedding's).
      XCTAssertEqual(ledger.usage.peak[.gradients]!, layerBytes + vocabularyBytes, "tied=\(tied)")
    }
  }

  func testLOMOGradientMemoryIsTheLargestTensorAndStateIsZero() {
    for tied in [false, true] {
      for clipping in [GradientClipping.none, .globalNorm(0.1)] {
        let ledger = MemoryLedger()
        let params = LlamaParameters.random(config: TinyModel.config(tied: tied), dtype: .f32,
                                            seed: 1, ledger: ledger)
        let model = LlamaModel(parameters: params, ledger: ledger)
        let driver = LomoStep(model: model, optimizer: LOMO(), clipping: clipping)
        for _ in 0..<2 {
          driver.step(tokens: TinyModel.tokens, targets: TinyModel.targets, batch: TinyModel.batch,
                      time: TinyModel.time, learningRate: 0.1)
        }
        let usage = ledger.usage
        let (total, bound) = bytes(params)
        XCTAssertGreaterThan(usage.peak[.gradients]!, 0)
        XCTAssertLessThanOrEqual(usage.peak[.gradients]!, bound, "tied=\(tied) \(clipping)")
        XCTAssertLessThan(usage.peak[.gradients]!, total / 2, "tied=\(tied)")
        XCTAssertEqual(usage.peak[.optimizerState], 0, "tied=\(tied) \(clipping)")
        XCTAssertEqual(usage.live[.parameters], total)
      }
    }
  }

  func testSGDBaselineHoldsFullGradients() {
    let ledger = MemoryLedger()
    let params = LlamaParameters.random(config: TinyModel.config(tied: false), dtype: .f32, seed: 2,
                                        ledger: ledger)
    let (total, bound) = bytes(params)
    let sgd = SGDBaseline(parameters: params, options: LOMO.Options(), ledger: ledger)
    XCTAssertEqual(ledger.usage.live[.gradients], total, "the baseline's gradients = parameter bytes")
    let model = LlamaModel(parameters: params, ledger: ledger)
    LomoStep(model: model, optimizer: sgd).step(
      tokens: TinyModel.tokens, targets: TinyModel.targets, batch: TinyModel.batch, time: TinyModel.time,
      learningRate: 0.1)
    // Plus backward's own hand-off buffer.
    XCTAssertEqual(ledger.usage.peak[.gradients], total + bound)
    XCTAssertEqual(ledger.usage.peak[.optimizerState], 0)
  }

  func testAdamWBaselineHoldsGradientsAndTwoMoments() {
    let ledger = MemoryLedger()
    let params = LlamaParameters.random(config: TinyModel.config(tied: true), dtype: .f32, seed: 3,
                                        ledger: ledger)
    let (total, _) = bytes(params)
    let adam = AdamWBaseline(parameters: params, ledger: ledger)
    XCTAssertEqual(ledger.usage.live[.gradients], total)
    XCTAssertEqual(ledger.usage.live[.optimizerState], 2 * total)
    _ = adam
  }

  func testAdaLomoStateIsFactoredAndCounted() {
    let ledger = MemoryLedger()
    let params = LlamaParameters.random(config: TinyModel.config(tied: false), dtype: .f32, seed: 4,
                                        ledger: ledger)
    let ada = AdaLomo(parameters: params, ledger: ledger)
    let expected = params.all.reduce(0) { sum, p in
      sum + 4 * (p.shape.count == 2 ? p.shape[0] + p.shape[1] : p.count)
    }
    XCTAssertEqual(ledger.usage.live[.optimizerState], expected)
    XCTAssertEqual(ada.stateBytes, expected)
    let model = LlamaModel(parameters: params, ledger: ledger)
    LomoStep(model: model, optimizer: ada).step(
      tokens: TinyModel.tokens, targets: TinyModel.targets, batch: TinyModel.batch, time: TinyModel.time,
      learningRate: 1e-3)
    XCTAssertLessThanOrEqual(ledger.usage.peak[.gradients]!, bytes(params).bound)
  }
}
