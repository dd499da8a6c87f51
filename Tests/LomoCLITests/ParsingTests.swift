import ArgumentParser
import Foundation
import LomoCore
import LomoKernels
import LomoOptim
import LomoTrain
import XCTest

@testable import LomoCLI

/// Command-line parsing: option groups, the library's defaults, enum words.
final class ParsingTests: XCTestCase {
  func testTrainDefaultsAreTheLibrarysOptions() throws {
    let train = try Train.parse(["--data", "d.jsonl", "--output", "out"])
    XCTAssertEqual(train.trainingOptions, TrainingOptions())
    XCTAssertEqual(train.data.maxSeqLen, ExampleBuilder.defaultMaxSequenceLength)
    XCTAssertEqual(train.model.model, "smollm2-135m")
    XCTAssertNil(train.output.saveFormat)
    XCTAssertFalse(train.output.overwrite)
  }

  /// --lr and --clip-grad-norm unset are the chosen optimizer's; given, they win; the help
  /// names each optimizer's defaults.
  func testLearningRateAndClippingDefaultToTheOptimizers() throws {
    XCTAssertEqual(TrainingOptions().optimizer, .adalomo)
    for optimizer in OptimizerKind.allCases {
      let options = try Train.parse(["--data", "d", "--output", "o", "--optimizer", optimizer.rawValue]).trainingOptions
      XCTAssertEqual(options, TrainingOptions(optimizer: optimizer))
      XCTAssertEqual(options.learningRate, optimizer.defaultLearningRate)
      XCTAssertEqual(options.clipGradNorm, optimizer.defaultClipGradNorm)
    }
    XCTAssertEqual(TrainingOptions(optimizer: .lomo).learningRate, 0.03)
    XCTAssertEqual(TrainingOptions(optimizer: .lomo).clipGradNorm, 1.0)
    XCTAssertEqual(TrainingOptions(optimizer: .adalomo).clipGradNorm, 0)
    let given = try Train.parse(["--data", "d", "--output", "o", "--optimizer", "lomo", "--lr", "0.1",
                                 "--clip-grad-norm", "0"]).trainingOptions
    XCTAssertEqual(given.learningRate, 0.1)
    XCTAssertEqual(given.clipGradNorm, 0)
    let help = Train.helpMessage(columns: 400)
    XCTAssertTrue(help.contains("adalomo 0.0003, sgd 0.03, adamw 1e-05") && help.contains("lomo 1, adalomo 0"), help)
    let demo = try Demo.parse(["--optimizer", "lomo"]).trainingOptions
    XCTAssertEqual(demo.learningRate, 0.03)
    XCTAssertEqual(demo.clipGradNorm, 1.0)
    XCTAssertEqual(try Demo.parse([]).trainingOptions.optimizer, .recommended)
  }

  /// LOMO_PRODUCTS chooses how 16-bit weights multiply; another word is refused by name.
  func testProductsVariableIsBF16OrF32() throws {
    defer {
      unsetenv("LOMO_PRODUCTS")
      Runtime.productsOverride = nil
    }
    for products in SixteenBitProducts.allCases {
      setenv("LOMO_PRODUCTS", products.rawValue, 1)
      try Train.parse(["--data", "d", "--output", "o"]).threads.apply()
      XCTAssertEqual(Runtime.sixteenBitProducts, products)
    }
    setenv("LOMO_PRODUCTS", "fp8", 1)
    XCTAssertThrowsError(try Train.parse(["--data", "d", "--output", "o"])) { error in
      XCTAssertTrue(Train.message(for: error).contains("LOMO_PRODUCTS must be bf16 or f32"), Train.message(for: error))
    }
  }

  func testByteCountsTakeDecimalAndBinaryUnitsAndNothingElse() {
    let good: [(String, Int)] = [("4096", 4096), ("500MB", 500_000_000), ("2GB", 2_000_000_000),
                                 ("4GiB", 4 << 30), ("1.5gib", 3 << 29), ("64 KiB", 65536), ("1tb", 1_000_000_000_000)]
    for (text, bytes) in good { XCTAssertEqual(ByteCount(argument: text)?.bytes, bytes, text) }
    for text in ["", "abc", "-5GB", "0", "1e30GB", "5 parsecs", "GiB", "1.2.3MB", "nan", "1e3"] {
      XCTAssertNil(ByteCount(argument: text), text)
    }
    XCTAssertThrowsError(try Train.parse(["--data", "d", "--output", "o", "--stream-weights", "--stream-budget", "lots"]))
    let train = try? Train.parse(["--data", "d", "--output", "o", "--stream-weights", "--stream-budget", "3GiB"])
    XCTAssertEqual(train?.streaming.streamBudget?.bytes, 3 << 30)
    XCTAssertEqual(train?.streaming.folder(default: "o"), "o")
  }

  func testTrainOptionsReachTrainingOptions() throws {
    let train = try Train.parse([
      "--data", "d.jsonl", "--output", "out", "--optimizer", "adalomo", "--lr", "0.03",
      "--lr-schedule", "cosine", "--warmup", "0.1", "--max-steps", "40", "--batch-size", "2",
      "--gradient-accumulation-steps", "3", "--dtype", "BF16", "--clip-grad-norm", "1", "--clip-grad-value", "5", "--weight-decay", "0.01",
      "--activation-checkpointing", "--seed", "7", "--eval-every", "10", "--eval-data", "e.jsonl", "--task", "RTE",
      "--limit", "100", "--max-seq-len", "256", "--save-format", "safetensors", "--threads", "1",
    ])
    var expected = TrainingOptions()
    expected.optimizer = .adalomo
    expected.learningRate = 0.03
    expected.schedule = .cosine
    expected.warmup = .ratio(0.1)
    expected.length = .maxSteps(40)
    expected.batchSize = 2
    expected.gradientAccumulationSteps = 3
    expected.dtype = .bf16
    expected.clipGradNorm = 1
    expected.clipGradValue = 5
    expected.weightDecay = 0.01
    expected.activationCheckpointing = true
    expected.seed = 7
    expected.evalEvery = 10
    XCTAssertEqual(train.trainingOptions, expected)
    XCTAssertEqual(train.data.task, .rte)
    XCTAssertEqual(train.data.limit, 100)
    XCTAssertEqual(train.data.maxSeqLen, 256)
    XCTAssertEqual(train.output.saveFormat, .safetensors)
    XCTAssertEqual(train.threads.count, 1)
  }

  func testWarmupIsAStepCountOrARatio() throws {
    func warmup(_ text: String) throws -> LearningRateSchedule.Warmup {
      try Train.parse(["--data", "d", "--output", "o", "--warmup", text]).trainingOptions.warmup
    }
    XCTAssertEqual(try warmup("10"), .steps(10))
    XCTAssertEqual(try warmup("0.25"), .ratio(0.25))
    XCTAssertThrowsError(try warmup("1.5"))
    XCTAssertThrowsError(try warmup("ten"))
  }

  func testEpochsUnlessMaxSteps() throws {
    XCTAssertEqual(try Train.parse(["--data", "d", "--output", "o", "--epochs", "3"]).trainingOptions.length,
                   .epochs(3))
    XCTAssertEqual(try Train.parse(["--data", "d", "--output", "o", "--max-steps", "5"]).trainingOptions.length,
                   .maxSteps(5))
  }

  func testTrainOnTakesLastOrAll() throws {
    XCTAssertEqual(try Train.parse(["--data", "d", "--output", "o"]).chat.trainOn, .last)
    XCTAssertEqual(try Train.parse(["--data", "d", "--output", "o", "--train-on", "all"]).chat.trainOn, .all)
    XCTAssertThrowsError(try Train.parse(["--data", "d", "--output", "o", "--train-on", "first"]))
    XCTAssertEqual(CommandDeclarations(Train.self).kinds["train-on"], .option, "a config file may set it")
  }

  func testSharedGroupsParseTheSameEverywhere() throws {
    let eval = try Eval.parse(["--data", "d.jsonl", "--model", "m.gguf", "--dtype", "bf16", "--threads", "2"])
    XCTAssertEqual(eval.model.model, "m.gguf")
    XCTAssertEqual(eval.storage.dtype, .bf16)
    XCTAssertEqual(eval.threads.count, 2)
    let generate = try Generate.parse(["--prompt", "hi", "--dtype", "f16"])
    XCTAssertEqual(generate.runtime.storage.dtype, .f16)
    XCTAssertEqual(generate.model.model, "smollm2-135m")
    let convert = try ConvertModel.parse(["--output", "x.gguf", "--type", "Q8_0"])
    XCTAssertEqual(convert.type, .q8_0)
    let bench = try Bench.parse(["--optimizer", "inference", "--dtype", "bf16"])
    XCTAssertEqual(bench.dtype, .bf16)
    XCTAssertEqual(bench.benchCase.mode, .inference)
  }

  func testALaterOptionWins() throws {
    // What config files rely on: their options come first and the command line's later.
    let train = try Train.parse(["--data", "d", "--output", "o", "--lr", "0.1", "--lr", "0.2"])
    XCTAssertEqual(train.trainingOptions.learningRate, 0.2)
  }
}
