import LomoCore
import LomoModel
@testable import LomoOptim
import XCTest

/// What every `StepOptimizer` promises through the protocol alone: its state brings a fresh
/// optimizer of its kind to the same next step, a state that does not fit is refused by name,
/// and the norm it returns is the measuring pass's.
final class StepOptimizerContractTests: XCTestCase {
  /// Each optimizer kind over `params`, its rounding generator seeded by `seed`.
  let kinds: [(name: String, make: (LlamaParameters, UInt64) -> any StepOptimizer)] = [
    ("LOMO", { _, seed in LOMO(LOMO.Options(weightDecay: 0.01, seed: seed)) }),
    ("AdaLomo", { p, seed in
      var o = AdaLomo.Options(weightDecay: 0.01)
      o.seed = seed
      return AdaLomo(parameters: p, options: o)
    }),
    ("SGD", { p, seed in SGDBaseline(parameters: p, options: LOMO.Options(seed: seed), clipGradNorm: 0.1) }),
    ("AdamW", { p, seed in
      var o = AdamWBaseline.Options(clipGradNorm: 0.1)
      o.seed = seed
      return AdamWBaseline(parameters: p, options: o)
    }),
  ]

  func step(_ driver: LomoStep) {
    driver.step(tokens: TinyModel.tokens, targets: TinyModel.targets, batch: TinyModel.batch,
                time: TinyModel.time, learningRate: 0.02)
  }

  /// bf16 storage with stochastic rounding, so the generator is state for every kind.
  func testEveryKindRoundTripsItsStateThroughTheProtocol() throws {
    let start = LlamaParameters.random(config: TinyModel.config(tied: true), dtype: .bf16, seed: 21,
                                       std: 0.2)
    for (name, make) in kinds {
      let a = TinyModel.copy(start)
      let driverA = LomoStep(model: LlamaModel(parameters: a), optimizer: make(a, 1))
      step(driverA)
      step(driverA)
      let saved = driverA.optimizer.state()

      let b = TinyModel.copy(a), c = TinyModel.copy(a)
      let restored = make(b, 2), fresh = make(c, 2)
      try restored.restore(saved)
      XCTAssertEqual(restored.state(), saved, name)
      step(driverA)
      step(LomoStep(model: LlamaModel(parameters: b), optimizer: restored))
      step(LomoStep(model: LlamaModel(parameters: c), optimizer: fresh))
      XCTAssertEqual(b.storageBits, a.storageBits, "\(name): restored next step")
      XCTAssertNotEqual(c.storageBits, a.storageBits, "\(name): the state must matter")
    }
  }

  func problem(restoring state: OptimizerState, into optimizer: any StepOptimizer) -> String? {
    let before = optimizer.state()
    do {
      try optimizer.restore(state)
      return nil
    } catch {
      XCTAssertEqual(optimizer.state(), before, "a refused state must change nothing")
      return (error as? OptimizerStateError)?.problem
    }
  }

  func testMismatchedStatesThrowNamingWhatIsMissing() throws {
    let params = LlamaParameters.random(config: TinyModel.config(tied: false), dtype: .f32, seed: 22)
    let states = kinds.map { ($0.name, $0.make(params, 3)) }
    let lomo = states[0].1, ada = states[1].1, sgd = states[2].1, adam = states[3].1

    XCTAssertEqual(problem(restoring: lomo.state(), into: ada), "missing 'step'")
    XCTAssertEqual(problem(restoring: lomo.state(), into: adam), "missing 'step'")
    XCTAssertEqual(problem(restoring: ada.state(), into: lomo), "unexpected 'step' (a state of another optimizer?)")
    XCTAssertEqual(problem(restoring: adam.state(), into: sgd), "unexpected 'step' (a state of another optimizer?)")
    // AdaLomo and AdamW share the integers; AdamW's first moment is missing from AdaLomo's.
    let adaIntoAdam = try XCTUnwrap(problem(restoring: ada.state(), into: adam))
    XCTAssertTrue(adaIntoAdam.hasPrefix("missing 'model.")
                  && (adaIntoAdam.hasSuffix(".exp_avg'") || adaIntoAdam.hasSuffix(".exp_avg_sq'")),
                  adaIntoAdam)
    XCTAssertEqual(problem(restoring: OptimizerState(), into: lomo), "missing 'generator.0'")

    var missing = ada.state()
    missing.arrays["model.norm.weight.exp_avg_sq"] = nil
    XCTAssertEqual(problem(restoring: missing, into: ada), "missing 'model.norm.weight.exp_avg_sq'")
    var resized = ada.state()
    resized.arrays["model.norm.weight.exp_avg_sq"] = [1, 2]
    XCTAssertEqual(problem(restoring: resized, into: ada),
                   "'model.norm.weight.exp_avg_sq' has 2 values, expected 32")
    var extra = adam.state()
    extra.arrays["model.norm.weight.exp_avg_sq_row"] = [0]
    XCTAssertEqual(problem(restoring: extra, into: adam),
                   "unexpected 'model.norm.weight.exp_avg_sq_row' (a state of another optimizer?)")
  }

  /// The updating pass's norm (settings.measuresNorm for fused kinds; always for baselines)
  /// is bit-identical to a `NormAccumulator` pass over the same gradients, loss scale divided
  /// out; without measuring, a fused kind returns none.
  func testOutcomeNormEqualsTheNormAccumulators() {
    let lossScale: Float = 8
    let tokenCount = TinyModel.targets.filter { $0 >= 0 }.count
    for (name, make) in kinds {
      let params = LlamaParameters.random(config: TinyModel.config(tied: true), dtype: .f32, seed: 23,
                                          std: 0.2)
      let model = LlamaModel(parameters: params)
      let optimizer = make(params, 4)
      for measures in [true, false] {
        model.forward(tokens: TinyModel.tokens, targets: TinyModel.targets, batch: TinyModel.batch,
                      time: TinyModel.time)
        let accumulator = NormAccumulator(lossScale: lossScale)
        let gradScale = lossScale / Float(tokenCount)
        model.backward(updater: accumulator, gradScale: gradScale)
        optimizer.beginStep(StepSettings(learningRate: 0.1, lossScale: lossScale,
                                         clipCoefficient: 0.5, measuresNorm: measures))
        model.backward(updater: optimizer, gradScale: gradScale)
        let outcome = optimizer.finishStep()
        XCTAssertEqual(accumulator.norm.tensorCount, params.all.count, name)
        XCTAssertGreaterThan(accumulator.norm.sumOfSquares, 0, name)
        if measures || !optimizer.updatesDuringBackward {
          XCTAssertEqual(outcome.gradientNorm, accumulator.norm, "\(name) measures=\(measures)")
        } else {
          XCTAssertNil(outcome.gradientNorm, name)
        }
        // Fused kinds apply the settings' coefficient; these baselines clip by their own norm.
        let expected = optimizer.updatesDuringBackward
          ? 0.5 : accumulator.norm.clipCoefficient(maxNorm: 0.1)
        XCTAssertEqual(outcome.clipCoefficient, expected, name)
      }
    }
  }
}
