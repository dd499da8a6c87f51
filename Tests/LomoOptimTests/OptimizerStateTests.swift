import LomoCore
import LomoModel
@testable import LomoOptim
import LomoTestSupport
import XCTest

/// Checkpointing AdaLomo and LOMO state, and AdamW's first step against its closed form.
final class OptimizerStateTests: XCTestCase {
  func step(_ driver: LomoStep, learningRate: Float) {
    driver.step(tokens: TinyModel.tokens, targets: TinyModel.targets, batch: TinyModel.batch,
                time: TinyModel.time, learningRate: learningRate)
  }

  func testAdaLomoStateRestoresExactly() throws {
    let start = LlamaParameters.random(config: TinyModel.config(tied: true), dtype: .bf16, seed: 12,
                                       std: 0.2)
    let options = AdaLomo.Options()
    let a = TinyModel.copy(start)
    let adaA = AdaLomo(parameters: a, options: options)
    let driverA = LomoStep(model: LlamaModel(parameters: a), optimizer: adaA)
    step(driverA, learningRate: 0.05)
    step(driverA, learningRate: 0.05)
    let saved = adaA.state()
    XCTAssertEqual(saved.integers["step"], 2)
    XCTAssertNotNil(saved.arrays["model.layers.0.self_attn.q_proj.weight.exp_avg_sq_row"])
    XCTAssertNotNil(saved.arrays["model.norm.weight.exp_avg_sq"])

    let b = TinyModel.copy(a)
    let adaB = AdaLomo(parameters: b, options: options)
    try adaB.restore(saved)
    XCTAssertEqual(adaB.state(), saved)
    step(driverA, learningRate: 0.05)
    step(LomoStep(model: LlamaModel(parameters: b), optimizer: adaB), learningRate: 0.05)
    XCTAssertEqual(a.storageBits, b.storageBits)

    var broken = saved
    broken.arrays["model.norm.weight.exp_avg_sq"] = [1, 2]
    XCTAssertThrowsError(try adaB.restore(broken))
  }

  func testLOMOGeneratorStateRestores() throws {
    let lomo = LOMO()
    _ = lomo.generator.next()
    let other = LOMO(LOMO.Options(seed: 99))
    try other.restore(lomo.state())
    XCTAssertEqual(other.generator, lomo.generator)
  }

  /// torch.optim.AdamW's first step: m̂ = g, v̂ = g², so p ← p(1 - lr·wd) - lr·g/(|g| + eps).
  func testAdamWFirstStepClosedForm() {
    let params = LlamaParameters.random(config: TinyModel.config(tied: false), dtype: .f32, seed: 13,
                                        std: 0.2)
    let before = params.all.map(\.floats)
    let adam = AdamWBaseline(parameters: params, options: .init(weightDecay: 0.1))
    step(LomoStep(model: LlamaModel(parameters: params), optimizer: adam), learningRate: 0.01)
    for (p, old) in zip(params.all, before) {
      let g = adam.store.buffers[p.id]!.array
      let new = p.floats
      for i in stride(from: 0, to: p.count, by: max(1, p.count / 17)) {
        let expected = Double(old[i]) * (1 - 0.01 * 0.1) - 0.01 * Double(g[i]) / (abs(Double(g[i])) + 1e-8)
        XCTAssertEqual(Double(new[i]), expected, accuracy: 1e-6, "\(p.id)[\(i)]")
      }
    }
  }
}
