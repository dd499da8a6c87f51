import Foundation
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

/// `MetricsWriter` on a device that refuses every byte: each write throws naming the file, and
/// the device is opened in place, never replaced by a regular file.
final class MetricsWriterTests: XCTestCase {
  func testAFullDeviceThrowsAndStaysADevice() throws {
    var st = stat()
    guard stat("/dev/full", &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR else {
      throw XCTSkip("/dev/full is not a character device here")
    }
    let trainer = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                              examples: TinyModel.examples(count: 4), padToken: 0,
                              options: TinyModel.options(steps: 1))
    var steps: [StepMetrics] = []
    try trainer.run { if case .step(let m) = $0 { steps.append(m) } }
    let writer = try MetricsWriter(path: "/dev/full")
    XCTAssertThrowsError(try writer.write(XCTUnwrap(steps.first))) { error in
      XCTAssertEqual("\(error)", "/dev/full: cannot write the metrics file (No space left on device)")
    }
    XCTAssertEqual(stat("/dev/full", &st), 0)
    XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR, "opening the metrics file replaced /dev/full")
  }
}
