import Foundation
import LomoCore
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

final class MemoryEstimateTests: XCTestCase {
  /// The table's text, as `lomo train` prints it when memory is short.
  func testTableIsLargestFirstWithKeysInSixteenColumns() throws {
    var e = MemoryEstimate(config: try TestModels.tinyLlama().config, dtype: .f32, optimizer: .lomo,
                           batchSize: 1, maxSeqLen: 8, activationCheckpointing: false)
    e.bytes = [.parameters: 3 << 29, .gradients: 12 << 20, .optimizerState: 0, .activations: 1536, .scratch: 100]
    e.overheadBytes = 192 << 20
    XCTAssertEqual(e.table, """
        parameters      1.5 GiB
        gradients       12.0 MiB
        activations     1.5 KiB
        scratch         100 B
        optimizerState  0 B
        kernels+runtime 192.0 MiB
        total           1.7 GiB
      """)
  }

  /// The estimate against the ledger's measured peak of a real run on the tiny model.
  /// `microBatches` K of 8/K sequences each.
  func checkEstimate(_ optimizer: OptimizerKind, dtype: DType = .f32, checkpointing: Bool,
                     microBatches: Int = 1, family: String = "llama", line: UInt = #line) throws {
    let ledger = MemoryLedger()
    var o = TinyModel.options(optimizer, dtype: dtype, steps: 2, batchSize: 8 / microBatches,
                              lr: optimizer == .lomo ? 0.05 : 1e-3)
    o.gradientAccumulationSteps = microBatches
    o.activationCheckpointing = checkpointing
    o.clipGradNorm = 1
    // Every example of full length, so each batch is batch × maxSeqLen. No token 0: the tiny
    // Gemma's row 0 (its padding token) is zero, and a zero row's RMSNorm gradients grow by
    // 1/sqrt(eps) a layer (transformers never adds them to that row: padding_idx).
    let examples: [TokenizedExample] = (0..<16).map { (i: Int) -> TokenizedExample in
      let tokens: [Int32] = (0..<40).map { (t: Int) -> Int32 in Int32(1 + (t + i) % 255) }
      let targets: [Int32] = (0..<40).map { (t: Int) -> Int32 in Int32(1 + (t + i + 1) % 255) }
      return TokenizedExample(tokens: tokens, targets: targets)
    }
    let model = LlamaModel(parameters: try ModelSource.huggingFace(TestModels.tinyModelDirectory(family))
                             .loadParameters(dtype: dtype, ledger: ledger), ledger: ledger)
    let trainer = try Trainer(model: model, examples: examples, padToken: 0, options: o, ledger: ledger)
    try trainer.run()
    let measured = ledger.usage.peakTotal
    let estimate = Trainer.estimate(config: model.config, options: o, maxSeqLen: 40)
    let ratio = Double(estimate.ledgerBytes) / Double(measured)
    let label = "\(family) \(optimizer) \(dtype) ckpt=\(checkpointing) K=\(microBatches)"
    XCTAssertEqual(ratio, 1, accuracy: 0.25,
                   "\(label): estimate \(estimate.ledgerBytes), measured \(measured)\n\(estimate.table)",
                   line: line)
    // The categories the model alone allocates are estimated exactly.
    for category in [MemoryCategory.parameters, .activations, .gradients] where optimizer == .lomo {
      XCTAssertEqual(estimate.bytes[category], ledger.usage.peak[category], "\(label) \(category)", line: line)
    }
  }

  func testEstimateMatchesTheLedgerPeak() throws {
    try checkEstimate(.lomo, checkpointing: false)
    try checkEstimate(.lomo, checkpointing: true)
    try checkEstimate(.lomo, dtype: .bf16, checkpointing: false)
    try checkEstimate(.adalomo, checkpointing: false)
    try checkEstimate(.adamw, checkpointing: true)
    try checkEstimate(.lomo, checkpointing: false, microBatches: 4)
    try checkEstimate(.lomo, dtype: .bf16, checkpointing: true, microBatches: 2)
    try checkEstimate(.adalomo, checkpointing: false, microBatches: 8)
  }

  /// The families' own activations (q/k before their norms, the outputs before the post
  /// norms) and tensors are in the estimate as exactly.
  func testEstimateMatchesTheLedgerPeakOfEachFamily() throws {
    for family in ["qwen2", "qwen3", "gemma3"] {
      try checkEstimate(.lomo, checkpointing: false, family: family)
      try checkEstimate(.lomo, dtype: .bf16, checkpointing: true, family: family)
      try checkEstimate(.lomo, checkpointing: false, microBatches: 2, family: family)
    }
  }

  func testAccumulationHoldsOneMicroBatchOfLayerActivations() {
    let config = try! TestModels.tinyLlama().config
    var o = TinyModel.options()
    o.batchSize = 8
    o.activationCheckpointing = true
    let whole = Trainer.estimate(config: config, options: o, maxSeqLen: 64)
    o.batchSize = 2
    o.gradientAccumulationSteps = 4
    let parts = Trainer.estimate(config: config, options: o, maxSeqLen: 64)
    XCTAssertLessThan(parts.bytes[.activations]!, whole.bytes[.activations]!)
    XCTAssertLessThan(parts.processBytes, whole.processBytes)
  }

  func testCheckpointingShrinksTheActivationEstimate() {
    let config = try! TestModels.tinyLlama().config
    var o = TinyModel.options()
    let full = Trainer.estimate(config: config, options: o, maxSeqLen: 64)
    o.activationCheckpointing = true
    let ckpt = Trainer.estimate(config: config, options: o, maxSeqLen: 64)
    XCTAssertLessThan(ckpt.bytes[.activations]!, full.bytes[.activations]!)
  }

  func testRunIsRefusedWhenTheEstimateExceedsAvailableMemory() throws {
    let config = try TestModels.tinyLlama().config
    let estimate = Trainer.estimate(config: config, options: TinyModel.options(), maxSeqLen: 64)
    XCTAssertNoThrow(try estimate.check(availableBytes: estimate.processBytes + 1))
    XCTAssertThrowsError(try estimate.check(availableBytes: estimate.processBytes - 1)) { error in
      guard case TrainingError.insufficientMemory(let shown, let available) = error else {
        return XCTFail("unexpected \(error)")
      }
      XCTAssertEqual(shown, estimate)
      XCTAssertEqual(available, estimate.processBytes - 1)
      let message = "\(error)"
      XCTAssertTrue(message.contains("activations") && message.contains("total"), message)
    }
  }

  /// How the README's large models train: bf16, checkpointing, one sequence per step.
  static var largeModelOptions: TrainingOptions {
    var options = TrainingOptions()
    options.dtype = .bf16
    options.batchSize = 1
    options.activationCheckpointing = true
    return options
  }

  /// llama-13b in bf16 does not fit 24 GiB in memory; the refusal says that streaming its layers
  /// would, and the streamed plan holds the embedding, LM head and final norm plus the layers
  /// the budget allows.
  func testAModelLargerThanMemoryIsOfferedStreaming() throws {
    let config = try XCTUnwrap(ModelCatalog.config(named: "llama-13b"))
    let options = Self.largeModelOptions
    let inMemory = Trainer.estimate(config: config, options: options, maxSeqLen: 512)
    let available = 24 << 30
    XCTAssertThrowsError(try inMemory.check(availableBytes: available)) { error in
      XCTAssertTrue("\(error)".contains("with --stream-weights"), "\(error)")
    }
    let layer = StreamedLayers.layerBytes(config: config, dtype: .bf16)
    // Each of the nine tensors starts on a page.
    let unpadded = 2 * ParameterID.LayerParameter.present(in: config).reduce(0) { $0 + ParameterID.layer(0, $1).count(in: config) }
    XCTAssertTrue((unpadded..<unpadded + 9 * 4096).contains(layer), "\(layer) bytes for \(unpadded)")
    let none = Trainer.estimate(config: config, options: options, maxSeqLen: 512, residentLayers: 0)
    let four = Trainer.estimate(config: config, options: options, maxSeqLen: 512, residentLayers: 4)
    XCTAssertEqual(four.bytes[.parameters]! - none.bytes[.parameters]!, 4 * layer)
    XCTAssertEqual(none.bytes[.parameters], 2 * (2 * config.vocabSize * config.hiddenSize + config.hiddenSize))
    XCTAssertEqual(inMemory.streamedAlternativeBytes, Trainer.estimate(config: config, options: options, maxSeqLen: 512,
                                                                      residentLayers: 2).processBytes)

    // The default budget: what 90% of the available memory leaves, at least 2 layers, at most all.
    let k = try StreamingBudget.residentLayers(config: config, dtype: .bf16, withoutLayers: none, budgetBytes: nil,
                                               availableBytes: available)
    XCTAssertEqual(k, (available - available / 10 - none.processBytes) / layer)
    XCTAssertNoThrow(try Trainer.estimate(config: config, options: options, maxSeqLen: 512, residentLayers: k)
      .check(availableBytes: available))
    XCTAssertEqual(try StreamingBudget.residentLayers(config: config, dtype: .bf16, withoutLayers: none, budgetBytes: nil,
                                                      availableBytes: 1 << 30), 2)
    XCTAssertEqual(try StreamingBudget.residentLayers(config: config, dtype: .bf16, withoutLayers: none, budgetBytes: nil,
                                                      availableBytes: 1 << 40), config.layers)
    XCTAssertEqual(try StreamingBudget.residentLayers(config: config, dtype: .bf16, withoutLayers: none,
                                                      budgetBytes: 3 * layer + 1), 3)
    XCTAssertThrowsError(try StreamingBudget.residentLayers(config: config, dtype: .bf16, withoutLayers: none,
                                                            budgetBytes: layer - 1)) {
      XCTAssertTrue("\($0)".contains("holds no layer"), "\($0)")
    }
  }

  /// llama-7b's untied [32000, 4096] gradients go to LOMO and AdaLomo in slices of 2048 rows:
  /// the gradient buffers are the largest MLP matrix and one slice, not [V, C] (accumulating:
  /// one layer's sum and the slice); the baselines keep the whole buffer.
  func testUntiedVocabularyGradientsAreEstimatedInSlices() throws {
    let config = try XCTUnwrap(ModelCatalog.config(named: "llama-7b"))
    var options = Self.largeModelOptions
    let C = config.hiddenSize, F = config.intermediateSize, V = config.vocabSize
    XCTAssertEqual(RowSlicedGradient.defaultSliceRows(columns: C), 2048)
    for optimizer in [OptimizerKind.lomo, .adalomo] {
      options.optimizer = optimizer
      XCTAssertEqual(Trainer.estimate(config: config, options: options, maxSeqLen: 512).bytes[.gradients],
                     (F * C + 2048 * C + C) * 4, "\(optimizer)")
    }
    let layer = ParameterID.LayerParameter.present(in: config).reduce(0) { $0 + ParameterID.layer(0, $1).count(in: config) }
    options.gradientAccumulationSteps = 2
    XCTAssertEqual(Trainer.estimate(config: config, options: options, maxSeqLen: 512).bytes[.gradients],
                   (layer + 2048 * C) * 4, "accumulating: one layer's sum and one slice")
    options.optimizer = .adamw
    options.gradientAccumulationSteps = 1
    XCTAssertEqual(Trainer.estimate(config: config, options: options, maxSeqLen: 512).bytes[.gradients],
                   (V * C + C + config.parameterCount) * 4, "the baseline keeps [V, C] and every gradient")
  }

  func testMemAvailableIsParsedFromMeminfo() {
    let text = "MemTotal:       24576000 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\n"
    XCTAssertEqual(MachineMemory.parse(meminfo: text, field: "MemAvailable"), 20_000_000 * 1024)
    XCTAssertNil(MachineMemory.parse(meminfo: text, field: "SwapTotal"))
  }
}
