import LomoCore
import LomoModel
@testable import LomoOptim
import LomoTestSupport
import XCTest

/// LOMO updates inside backward; the SGD baseline keeps every gradient and updates afterwards.
/// Because backward reads each weight before handing it off, both must give the same bits
/// (f32 storage), with and without clipping, tied or not, and activation checkpointing must
/// change no number.
final class BaselineEquivalenceTests: XCTestCase {
  let steps = 3

  func runLOMO(_ params: LlamaParameters, lr: Float, options: LOMO.Options,
               clipping: GradientClipping, checkpointing: Bool = false) -> [Float] {
    let model = LlamaModel(parameters: params, activationCheckpointing: checkpointing)
    let driver = LomoStep(model: model, optimizer: LOMO(options), clipping: clipping)
    return (0..<steps).map { _ in
      driver.step(tokens: TinyModel.tokens, targets: TinyModel.targets, batch: TinyModel.batch,
                  time: TinyModel.time, learningRate: lr).loss
    }
  }

  func runSGD(_ params: LlamaParameters, lr: Float, options: LOMO.Options, clipGradNorm: Float?)
    -> [Float]
  {
    let model = LlamaModel(parameters: params)
    let sgd = SGDBaseline(parameters: params, options: options, clipGradNorm: clipGradNorm)
    let driver = LomoStep(model: model, optimizer: sgd)
    return (0..<steps).map { _ in
      driver.step(tokens: TinyModel.tokens, targets: TinyModel.targets, batch: TinyModel.batch,
                  time: TinyModel.time, learningRate: lr).loss
    }
  }

  func testLOMOEqualsSGDBaselineBitForBit() {
    let settings: [(String, LOMO.Options, Float?)] = [
      ("plain", LOMO.Options(), nil),
      ("norm clip", LOMO.Options(), 0.05),
      ("value clip + decay", LOMO.Options(weightDecay: 0.1, clipGradValue: 1e-3), nil),
    ]
    for tied in [false, true] {
      let start = LlamaParameters.random(config: TinyModel.config(tied: tied), dtype: .f32, seed: 7,
                                         std: 0.2)
      for (what, options, maxNorm) in settings {
        let a = TinyModel.copy(start), b = TinyModel.copy(start)
        let lomoLosses = runLOMO(a, lr: 0.5, options: options,
                                 clipping: maxNorm.map { .globalNorm($0) } ?? .none)
        let sgdLosses = runSGD(b, lr: 0.5, options: options, clipGradNorm: maxNorm)
        XCTAssertEqual(lomoLosses, sgdLosses, "tied=\(tied) \(what)")
        XCTAssertEqual(a.storageBits, b.storageBits, "tied=\(tied) \(what)")
        XCTAssertNotEqual(a.storageBits, start.storageBits, "tied=\(tied) \(what): no update")
        XCTAssertLessThan(lomoLosses.last!, lomoLosses.first!, "tied=\(tied) \(what)")
      }
    }
  }

  func testActivationCheckpointingChangesNoNumber() {
    for tied in [false, true] {
      let start = LlamaParameters.random(config: TinyModel.config(tied: tied), dtype: .f32, seed: 8,
                                         std: 0.2)
      let a = TinyModel.copy(start), b = TinyModel.copy(start)
      let options = LOMO.Options(weightDecay: 0.01)
      let plain = runLOMO(a, lr: 0.3, options: options, clipping: .globalNorm(0.1),
                          checkpointing: false)
      let checkpointed = runLOMO(b, lr: 0.3, options: options, clipping: .globalNorm(0.1),
                                 checkpointing: true)
      XCTAssertEqual(plain, checkpointed, "tied=\(tied)")
      XCTAssertEqual(a.storageBits, b.storageBits, "tied=\(tied)")
    }
  }

  /// bf16 storage with stochastic rounding: the same seed gives the same bits, LOMO and the
  /// SGD baseline draw identically, and the thread count does not matter.
  func testBF16StochasticRunsAreReproducible() {
    let start = LlamaParameters.random(config: TinyModel.config(tied: true), dtype: .bf16, seed: 9,
                                       std: 0.2)
    let options = LOMO.Options(seed: 42)
    let a = TinyModel.copy(start), b = TinyModel.copy(start), c = TinyModel.copy(start)
    _ = runLOMO(a, lr: 0.1, options: options, clipping: .none)
    let saved = Threads.count
    Threads.setCount(1)
    _ = runLOMO(b, lr: 0.1, options: options, clipping: .none)
    Threads.setCount(saved)
    _ = runSGD(c, lr: 0.1, options: options, clipGradNorm: nil)
    XCTAssertEqual(a.storageBits, b.storageBits)
    XCTAssertEqual(a.storageBits, c.storageBits)
    XCTAssertNotEqual(a.storageBits, start.storageBits)
  }

  /// One-pass clipping with the previous step's norm: step 1 measures (two passes), later steps
  /// run one backward and use the norm the previous updating pass measured.
  func testPreviousStepNormClippingRunsOneBackward() {
    let params = LlamaParameters.random(config: TinyModel.config(tied: false), dtype: .f32, seed: 10,
                                        std: 0.2)
    let model = LlamaModel(parameters: params)
    let driver = LomoStep(model: model, optimizer: LOMO(), clipping: .previousStepNorm(0.05))
    var previous: Double?
    for k in 0..<4 {
      let r = driver.step(tokens: TinyModel.tokens, targets: TinyModel.targets,
                          batch: TinyModel.batch, time: TinyModel.time, learningRate: 0.3)
      XCTAssertEqual(r.backwardPasses, k == 0 ? 2 : 1, "step \(k)")
      let norm = try! XCTUnwrap(r.gradientNorm)
      if let previous {
        XCTAssertEqual(r.clipCoefficient, GradientNorm.clipCoefficient(maxNorm: 0.05, total: previous))
      }
      XCTAssertLessThan(r.clipCoefficient, 1)
      previous = norm
    }
  }
}
