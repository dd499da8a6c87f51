import Foundation
import LomoCore
import LomoModel
import LomoOptim
import XCTest

/// One-pass clipping with the previous step's norm against lomo-optim's two-pass clipping on
/// the tiny fixture model: it saves one backward per step and must train about as well.
final class OnePassClippingTests: XCTestCase {
  func train(_ clipping: GradientClipping, steps: Int) throws -> (losses: [Float], seconds: Double, passes: Int) {
    let fx = try OptimizerFixture.load()
    let model = LlamaModel(parameters: try OptimizerFixture.loadParameters())
    let driver = LomoStep(model: model, optimizer: LOMO(), clipping: clipping)
    var losses: [Float] = []
    var passes = 0
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<steps {
      let r = driver.step(tokens: fx.tokens, targets: fx.targets, batch: fx.batch, time: fx.time,
                          learningRate: 0.05)
      losses.append(r.loss)
      passes += r.backwardPasses
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    losses.append(model.loss(tokens: fx.tokens, targets: fx.targets, batch: fx.batch, time: fx.time).meanLoss)
    return (losses, seconds, passes)
  }

  func testPreviousStepNormTrainsLikeTwoPassWithOneBackward() throws {
    let steps = 20
    _ = try train(.none, steps: 2)  // warm up oneDNN and the allocator before timing
    let two = try train(.globalNorm(1), steps: steps)
    let one = try train(.previousStepNorm(1), steps: steps)
    XCTAssertEqual(two.passes, 2 * steps)
    XCTAssertEqual(one.passes, steps + 1)
    XCTAssertEqual(one.losses[0], two.losses[0])
    XCTAssertEqual(one.losses[1], two.losses[1], "step 1 measures in two passes, so it is exact")
    // Quality: final losses within 5 % of each other, both well below the start.
    XCTAssertEqual(one.losses.last!, two.losses.last!, accuracy: 0.05 * two.losses.last!)
    XCTAssertLessThan(two.losses.last!, 0.8 * two.losses[0])
    print("clipping two-pass: final loss \(two.losses.last!) in \(two.seconds) s; "
          + "previous-step norm: final loss \(one.losses.last!) in \(one.seconds) s")
  }
}
