import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// The tiny random LLaMA of scripts/make_model_fixtures.py against PyTorch + transformers:
/// logits, loss and every parameter gradient.
final class TinyLlamaParityTests: XCTestCase {
  static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

  struct Expected {
    let file: SafetensorsFile
    func floats(_ name: String) throws -> [Float] {
      let info = try XCTUnwrap(file.tensors[name], "fixture lacks \(name)")
      return try [Float](unsafeUninitializedCapacity: info.count) { buffer, n in
        try file.readFloats(name, expectedShape: info.shape, into: buffer.baseAddress!)
        n = info.count
      }
    }
    func ints(_ name: String) throws -> [Int32] { try floats(name).map { Int32($0) } }
  }

  static func expected() throws -> Expected {
    Expected(file: try SafetensorsFile(path: Self.fixtures.appendingPathComponent("tiny-llama-expected.safetensors").path))
  }

  static func loadSafetensorsModel(dtype: DType = .f32) throws -> LlamaModel {
    LlamaModel(parameters: try TestModels.tinyLlama(dtype: dtype))
  }

  func testConfigIsReadFromConfigJSON() throws {
    let config = try LlamaConfig(huggingFaceConfig: TestModels.tinyLlamaDirectory + "/config.json")
    XCTAssertEqual(config, LlamaConfig(layers: 2, hiddenSize: 64, intermediateSize: 96, heads: 4, kvHeads: 2,
                                       headDim: 16, vocabSize: 256, ropeTheta: 10_000, rmsEps: 1e-5,
                                       tiedEmbeddings: false, maxContext: 64))
  }

  func testLogitsLossAndEveryGradientMatchPyTorch() throws {
    let model = try Self.loadSafetensorsModel()
    let e = try Self.expected()
    let tokens = try e.ints("tokens"), targets = try e.ints("targets")
    let (batch, time) = (2, 11)
    let logits = model.logits(tokens: tokens, batch: batch, time: time)
    XCTAssertNil(allClose(logits, try e.floats("logits"), atol: 2e-5, rtol: 1e-4, "logits"))

    model.forward(tokens: tokens, targets: targets, batch: batch, time: time)
    let collector = GradientCollector()
    let loss = model.backward(updater: collector)
    XCTAssertEqual(loss.meanLoss, try e.floats("loss")[0], accuracy: 1e-5)
    for id in ParameterID.all(for: model.config) {
      let grad = try XCTUnwrap(collector.gradients[id], "no gradient for \(id)")
      XCTAssertNil(allClose(grad, try e.floats("grad.\(id)"), atol: 1e-6, rtol: 1e-4, "grad \(id)"))
    }
  }

  /// bf16 storage rounds every weight and GEMM operand: logits stay within bf16 precision.
  func testBF16WeightsStayCloseToF32Logits() throws {
    let model = try Self.loadSafetensorsModel(dtype: .bf16)
    let e = try Self.expected()
    let logits = model.logits(tokens: try e.ints("tokens"), batch: 2, time: 11)
    XCTAssertNil(allClose(logits, try e.floats("logits"), atol: 3e-2, rtol: 3e-2, "bf16 logits"))
  }
}

/// The same tiny model read from llama.cpp-layout GGUF files.
final class TinyLlamaGGUFTests: XCTestCase {
  func model(_ file: String) throws -> LlamaModel {
    let gguf = try GGUFFile(path: TinyLlamaParityTests.fixtures.appendingPathComponent(file).path)
    let config = try LlamaConfig(gguf: gguf)
    return LlamaModel(parameters: try LlamaParameters.load(config: config, from: gguf, dtype: .f32))
  }

  func testF32GGUFGivesTheSameConfigParametersAndLogitsAsSafetensors() throws {
    let fromGGUF = try model("tiny-llama-f32.gguf")
    let fromSafetensors = try TinyLlamaParityTests.loadSafetensorsModel()
    XCTAssertEqual(fromGGUF.config, fromSafetensors.config)
    for id in ParameterID.all(for: fromGGUF.config) {
      XCTAssertEqual(fromGGUF.parameters[id].floats, fromSafetensors.parameters[id].floats, "\(id)")
    }
    let tokens = try TinyLlamaParityTests.expected().ints("tokens")
    XCTAssertEqual(fromGGUF.logits(tokens: tokens, batch: 2, time: 11),
                   fromSafetensors.logits(tokens: tokens, batch: 2, time: 11))
  }

  func testQ8GGUFMatchesPyTorchOnTheDequantisedWeights() throws {
    let e = try TinyLlamaParityTests.expected()
    let logits = try model("tiny-llama-q8_0.gguf").logits(tokens: try e.ints("tokens"), batch: 2, time: 11)
    XCTAssertNil(allClose(logits, try e.floats("logits_q8_0"), atol: 2e-5, rtol: 1e-4, "Q8_0 logits"))
  }
}
