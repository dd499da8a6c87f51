import Foundation
import LomoCore
import LomoModel
import LomoOptim
import LomoTestSupport
import XCTest

/// Layers streamed from a file (`LlamaParameters.streamed`) train to exactly the parameters of
/// the same run in memory: SmolLM2-135M with 2 of its 30 layers in memory at once, LOMO with
/// clipping (two backward passes) in bf16 with stochastic rounding and in f32, and AdaLomo.
final class StreamedLayersTests: XCTestCase {
  /// One fixed 64-token sequence of SmolLM2's vocabulary.
  static let tokens: [Int32] = (0..<64).map { Int32(($0 * 7919 + 13) % 49_152) }

  func testSmolLM2LOMOBF16AndF32AreBitIdenticalToInMemory() throws {
    let source = try TestModels.defaultSource()
    for dtype in [DType.bf16, .f32] {
      try assertSameTraining(source: source, dtype: dtype, clipping: .globalNorm(1.0)) { _ in LOMO() }
    }
  }

  func testSmolLM2AdaLomoIsBitIdenticalToInMemory() throws {
    let source = try TestModels.defaultSource()
    try assertSameTraining(source: source, dtype: .bf16, clipping: .none) { AdaLomo(parameters: $0) }
  }

  /// The families' own tensors (Qwen2's biases, Qwen3's and Gemma 3's extra norms) stream and
  /// train as in memory too.
  func testTinyModelsOfEachFamilyAreBitIdenticalToInMemory() throws {
    let tokens = (0..<11).map { Int32(($0 * 37 + 5) % 256) }
    for family in ["qwen2", "qwen3", "gemma3"] {
      let source = ModelSource.huggingFace(TestModels.tinyModelDirectory(family))
      try assertSameTraining(source: source, dtype: .f32, clipping: .globalNorm(1.0), tokens: tokens,
                             countsTraffic: false) { _ in LOMO() }
      try assertSameTraining(source: source, dtype: .bf16, clipping: .none, tokens: tokens,
                             countsTraffic: false) { AdaLomo(parameters: $0) }
    }
  }

  /// Three steps of the same optimizer on the model in memory and on the model streamed with
  /// two resident layers, then every tensor compared bit for bit; `countsTraffic`: also the
  /// reads and write-backs a model of many layers needs (not the tiny models' few).
  func assertSameTraining(source: ModelSource, dtype: DType, clipping: GradientClipping, tokens: [Int32] = tokens,
                          countsTraffic: Bool = true, optimizer: (LlamaParameters) -> any StepOptimizer) throws {
    let targets = Array(tokens.dropFirst()) + [-1]
    let folder = try TemporaryDirectory("streamed", onDisk: true)
    let ledger = MemoryLedger()
    let inMemory = try source.loadParameters(dtype: dtype)
    let streamed = try source.loadParameters(dtype: dtype, streamingLayersIn: folder.path, ledger: ledger)
    let layers = try XCTUnwrap(streamed.streamed)
    XCTAssertEqual(TemporaryDirectory.contents(of: folder.path), [], "the file is unlinked at once")
    let time = tokens.count
    for parameters in [inMemory, streamed] {
      let driver = LomoStep(model: LlamaModel(parameters: parameters), optimizer: optimizer(parameters),
                            clipping: clipping)
      for _ in 0..<3 {
        let r = driver.step(tokens: tokens, targets: targets, batch: 1, time: time, learningRate: 1e-2)
        XCTAssertTrue(r.loss.isFinite)
      }
    }
    let reference = inMemory.all
    var index = 0, differing: [ParameterID] = []
    streamed.forEachTensor(writing: false) { t in
      if t.floats != reference[index].floats { differing.append(t.id) }
      index += 1
    }
    XCTAssertEqual(differing, [], "\(dtype): tensors that differ from the in-memory run")
    // The budget held: the embedding, LM head, norm and at most two layers were ever in memory.
    let resident = (streamed.embedding.count + (streamed.untiedLMHead?.count ?? 0) + streamed.finalNorm.count) * dtype.byteSize
    XCTAssertLessThanOrEqual(ledger.usage.peak[.parameters] ?? 0, resident + 2 * layers.layerBytes)
    guard countsTraffic else { return }
    // Every step read each layer in forward and in each backward pass, and wrote it back.
    XCTAssertGreaterThan(layers.statistics.bytesRead, 3 * 2 * layers.fileBytes)
    XCTAssertGreaterThan(layers.statistics.bytesWritten, 2 * layers.fileBytes)
  }

  func testOneResidentLayerAndVocabularySlicesMatch() throws {
    let folder = try TemporaryDirectory("streamed", onDisk: true)
    let inMemory = try TestModels.tinyLlama(dtype: .bf16)
    let streamed = try ModelSource.huggingFace(TestModels.tinyLlamaDirectory)
      .loadParameters(dtype: .bf16, streamingLayersIn: folder.path)
    streamed.streamed?.residentLayers = 1
    let tokens: [Int32] = (0..<16).map { Int32($0 * 11 % 256) }
    let targets = Array(tokens.dropFirst()) + [-1]
    for parameters in [inMemory, streamed] {
      // The untied [V, C] gradients in four slices, as a large vocabulary would be.
      let model = LlamaModel(parameters: parameters, activationCheckpointing: true)
      model.vocabularySliceRows = 64
      let driver = LomoStep(model: model, optimizer: AdaLomo(parameters: parameters))
      _ = driver.step(tokens: tokens, targets: targets, batch: 2, time: 8, learningRate: 0.1)
    }
    let a = LlamaModel(parameters: inMemory).logits(tokens: tokens, batch: 1, time: 16)
    let b = LlamaModel(parameters: streamed).logits(tokens: tokens, batch: 1, time: 16)
    XCTAssertEqual(a, b)
  }

  /// The residency window on the tiny model grown to 8 layers, 3 in memory. `random` leaves
  /// the last 3 in memory, changed; a forward pass evicts them first (writing them back) and
  /// reads every layer; the backward that follows finds the last 3 in memory and reads the
  /// other 5 again, and a pass that changes nothing writes nothing back.
  func testTheWindowKeepsTheMostRecentLayersAndWritesBackOnlyChangedOnes() throws {
    var config = try TestModels.tinyLlama().config
    config.layers = 8
    let folder = try TemporaryDirectory("streamed", onDisk: true)
    let ledger = MemoryLedger()
    let layers = try StreamedLayers(config: config, dtype: .bf16, folder: folder.path, residentLayers: 3, ledger: ledger)
    let parameters = LlamaParameters.random(config: config, dtype: .bf16, seed: 3, streamed: layers, ledger: ledger)
    XCTAssertEqual(layers.statistics.bytesWritten, 5 * layers.layerBytes, "random() wrote back what it evicted")
    let model = LlamaModel(parameters: parameters, ledger: ledger)
    let tokens: [Int32] = (0..<16).map { Int32($0 * 5 % 256) }
    let targets = Array(tokens.dropFirst()) + [-1]
    var before = layers.statistics
    model.forward(tokens: tokens, targets: targets, batch: 1, time: 16)
    XCTAssertEqual(layers.statistics.bytesRead - before.bytesRead, 8 * layers.layerBytes)
    XCTAssertEqual(layers.statistics.bytesWritten - before.bytesWritten, 3 * layers.layerBytes)
    before = layers.statistics
    model.backward(updater: NormAccumulator())
    XCTAssertEqual(layers.statistics.bytesRead - before.bytesRead, 5 * layers.layerBytes, "7, 6, 5 were in memory")
    XCTAssertEqual(layers.statistics.bytesWritten, before.bytesWritten, "a measuring pass writes nothing back")
    let others = (parameters.embedding.count + parameters.lmHead.count + parameters.finalNorm.count) * 2
    XCTAssertEqual(ledger.usage.peak[.parameters]! - others, 3 * layers.layerBytes, "never more than 3 layers in memory")
  }

  func testAFolderThatCannotHoldTheFileIsAnErrorNamingIt() throws {
    let config = try TestModels.tinyLlama().config
    XCTAssertThrowsError(try LlamaParameters.zeros(config: config, dtype: .f32, streamingLayersIn: "/nonexistent/x")) {
      XCTAssertTrue("\($0)".contains("/nonexistent/x"), "\($0)")
      XCTAssertTrue("\($0)".contains("--stream-dir"), "\($0)")
    }
    // /dev/shm is a tmpfs on Linux: streaming there would hold the weights in RAM.
    guard FileManager.default.fileExists(atPath: "/dev/shm") else { return }
    XCTAssertThrowsError(try LlamaParameters.zeros(config: config, dtype: .f32, streamingLayersIn: "/dev/shm")) {
      XCTAssertTrue("\($0)".contains("in memory (tmpfs or ramfs)"), "\($0)")
    }
  }
}
