import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// The tiny random model of each further family (scripts/make_model_fixtures.py: Qwen2 with
/// q/k/v biases and a tied head, Qwen3 with per-head q/k norms and H·D ≠ C, Gemma 3 with its
/// sliding window shorter than the batch's sequences) against PyTorch + transformers: logits, loss and every parameter gradient; the same model from its GGUF;
/// the gradients unchanged by checkpointing and by accumulation; exports read back unchanged.
final class FamilyParityTests: XCTestCase {
  static let families: [ModelFamily] = [.qwen2, .qwen3, .gemma3]

  static func folder(_ family: ModelFamily) -> String {
    TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-\(family.rawValue)").path
  }

  static func expected(_ family: ModelFamily) throws -> TinyLlamaParityTests.Expected {
    TinyLlamaParityTests.Expected(file: try SafetensorsFile(
      path: TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-\(family.rawValue)-expected.safetensors").path))
  }

  static func model(_ family: ModelFamily, dtype: DType = .f32, checkpointing: Bool = false) throws -> LlamaModel {
    LlamaModel(parameters: try ModelSource.huggingFace(folder(family)).loadParameters(dtype: dtype),
               activationCheckpointing: checkpointing)
  }

  /// Equal values; a Gemma norm's stored in GGUF as 1 + w loses up to half an ulp of 1 in f32.
  static func assertSame(_ a: ParameterTensor, _ b: ParameterTensor, family: ModelFamily, _ what: String) {
    if a.id.isNorm && family.normWeightOffset != 0 {
      XCTAssertNil(allClose(a.floats, b.floats, atol: 6e-8, rtol: 0, what))
    } else {
      XCTAssertEqual(a.floats, b.floats, what)
    }
  }

  func gradients(_ model: LlamaModel, _ e: TinyLlamaParityTests.Expected, microBatches: Int = 1) throws -> (Float, GradientCollector) {
    model.forward(tokens: try e.ints("tokens"), targets: try e.ints("targets"), batch: 2, time: 11, microBatches: microBatches)
    let collector = GradientCollector()
    let loss = model.backward(updater: collector)
    return (loss.meanLoss, collector)
  }

  func testConfigsNameTheirFamilyAndItsTensors() throws {
    let qwen2 = try LlamaConfig(huggingFaceConfig: Self.folder(.qwen2) + "/config.json")
    XCTAssertEqual(qwen2, LlamaConfig(family: .qwen2, layers: 2, hiddenSize: 64, intermediateSize: 96, heads: 4, kvHeads: 2,
                                      headDim: 16, vocabSize: 256, ropeTheta: 1_000_000, rmsEps: 1e-6,
                                      tiedEmbeddings: true, maxContext: 64))
    let qwen3 = try LlamaConfig(huggingFaceConfig: Self.folder(.qwen3) + "/config.json")
    XCTAssertEqual(qwen3.family, .qwen3)
    XCTAssertEqual(qwen3.headDim, 32)
    XCTAssertEqual(qwen3.queryDim, 128)
    XCTAssertEqual(ParameterID.LayerParameter.present(in: qwen2).map(\.rawValue),
                   ["attentionNorm", "query", "key", "value", "queryBias", "keyBias", "valueBias", "output", "mlpNorm", "gate", "up", "down"])
    XCTAssertEqual(ParameterID.LayerParameter.present(in: qwen3).map(\.rawValue),
                   ["attentionNorm", "query", "key", "value", "queryNorm", "keyNorm", "output", "mlpNorm", "gate", "up", "down"])
    XCTAssertEqual(ParameterID.layer(1, .keyBias).ggufName, "blk.1.attn_k.bias")
    XCTAssertEqual(ParameterID.layer(1, .queryNorm).description, "model.layers.1.self_attn.q_norm.weight")
  }

  func testLogitsLossAndEveryGradientMatchPyTorch() throws {
    for family in Self.families {
      let model = try Self.model(family)
      let e = try Self.expected(family)
      let logits = model.logits(tokens: try e.ints("tokens"), batch: 2, time: 11)
      XCTAssertNil(allClose(logits, try e.floats("logits"), atol: 2e-5, rtol: 1e-4, "\(family) logits"))
      let (loss, collector) = try gradients(model, e)
      XCTAssertEqual(loss, try e.floats("loss")[0], accuracy: 1e-5, "\(family)")
      XCTAssertEqual(Set(collector.gradients.keys), Set(ParameterID.all(for: model.config)), "\(family): every tensor once")
      for id in ParameterID.all(for: model.config) {
        let grad = try XCTUnwrap(collector.gradients[id], "\(family): no gradient for \(id)")
        XCTAssertNil(allClose(grad, try e.floats("grad.\(id.huggingFaceName(in: family))"), atol: 1e-6, rtol: 1e-4,
                              "\(family) grad \(id)"))
      }
    }
  }

  /// Checkpointing recomputes each block (the norms' saved inputs too); two micro-batches of
  /// one sequence sum their gradients in `GradientSum`, biases and head norms included.
  func testCheckpointingAndAccumulationGiveTheSameGradients() throws {
    for family in Self.families {
      let e = try Self.expected(family)
      let (_, plain) = try gradients(try Self.model(family), e)
      let (_, recomputed) = try gradients(try Self.model(family, checkpointing: true), e)
      let (_, accumulated) = try gradients(try Self.model(family), e, microBatches: 2)
      for id in ParameterID.all(for: try Self.model(family).config) {
        XCTAssertEqual(recomputed.gradients[id], plain.gradients[id], "\(family) checkpointed \(id)")
        XCTAssertNil(allClose(try XCTUnwrap(accumulated.gradients[id]), try XCTUnwrap(plain.gradients[id]),
                              atol: 1e-6, rtol: 1e-4, "\(family) accumulated \(id)"))
      }
    }
  }

  func testGGUFGivesTheSameConfigParametersAndLogits() throws {
    for family in Self.families {
      let gguf = try GGUFFile(path: TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-\(family.rawValue)-f32.gguf").path)
      let config = try LlamaConfig(gguf: gguf)
      let fromGGUF = LlamaModel(parameters: try LlamaParameters.load(config: config, from: gguf, dtype: .f32))
      let fromSafetensors = try Self.model(family)
      XCTAssertEqual(fromGGUF.config, fromSafetensors.config, "\(family)")
      for id in ParameterID.all(for: config) {
        Self.assertSame(fromGGUF.parameters[id], fromSafetensors.parameters[id], family: family, "\(family) \(id)")
      }
    }
  }

  func testBF16WeightsStayCloseToF32Logits() throws {
    for family in Self.families {
      let e = try Self.expected(family)
      let logits = try Self.model(family, dtype: .bf16).logits(tokens: try e.ints("tokens"), batch: 2, time: 11)
      XCTAssertNil(allClose(logits, try e.floats("logits"), atol: 3e-2, rtol: 3e-2, "\(family) bf16 logits"))
    }
  }

  /// GGUF under the family's architecture (no q/k permutation) and a Hugging Face folder of the
  /// family's model class, both read back to the same tensors.
  func testExportsReadBackUnchanged() throws {
    for family in Self.families {
      let model = try Self.model(family)
      let out = try TemporaryDirectory("family-export")
      try ModelExporter.writeGGUF(model.parameters, to: out("m.gguf"), type: .f32, source: .huggingFace(Self.folder(family)))
      let file = try GGUFFile(path: out("m.gguf"))
      XCTAssertEqual(file.metadata["general.architecture"], .string(family.ggufArchitecture))
      let fixture = try GGUFFile(path: TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-\(family.rawValue)-f32.gguf").path)
      XCTAssertEqual(try file.tensorData("blk.1.attn_q.weight"), try fixture.tensorData("blk.1.attn_q.weight"), "\(family): llama.cpp's layout")
      try ModelExporter.writeHuggingFace(model.parameters, to: out("hf"), source: .huggingFace(Self.folder(family)))
      let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out("hf") + "/config.json"))) as? [String: Any])
      XCTAssertEqual(config["model_type"] as? String, family.huggingFaceModelType)
      XCTAssertEqual(config["architectures"] as? [String], [family.huggingFaceArchitecture])
      for source in [ModelSource.gguf(out("m.gguf")), .huggingFace(out("hf"))] {
        let reloaded = try source.loadParameters(dtype: .f32)
        XCTAssertEqual(reloaded.config, model.config, "\(family) \(source)")
        for id in ParameterID.all(for: model.config) {
          Self.assertSame(reloaded[id], model.parameters[id], family: family, "\(family) \(source) \(id)")
        }
      }
    }
  }
}

/// LLaMA 3.1/3.2's RoPE scaling from a GGUF's `rope_freqs.weight` (llama.cpp's per-frequency
/// divisors) and back: the tiny LLaMA with transformers' `llama3` scaling (an original context
/// of 32, so T = 11 crosses every band) against scripts/make_model_fixtures.py's reference.
final class RopeFactorsTests: XCTestCase {
  static let scaling = Llama3RopeScaling(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 32)

  func expected() throws -> TinyLlamaParityTests.Expected {
    TinyLlamaParityTests.Expected(file: try SafetensorsFile(
      path: TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-llama31-expected.safetensors").path))
  }

  func tinyLlama(_ edit: (inout LlamaConfig) -> Void) throws -> LlamaParameters {
    var config = try LlamaConfig(huggingFaceConfig: TestModels.tinyLlamaDirectory + "/config.json")
    edit(&config)
    return try LlamaParameters.load(config: config, from: try SafetensorsCheckpoint(directory: TestModels.tinyLlamaDirectory), dtype: .f32)
  }

  func testLlamaCppFactorsAreLlama3ScalingAndMatchTransformers() throws {
    let e = try expected()
    let llamaCpp = try e.floats("rope_freqs")
    let scaled = try tinyLlama { $0.ropeScaling = Self.scaling }
    XCTAssertNil(allClose(try XCTUnwrap(scaled.config.ropeFactors), llamaCpp, atol: 0, rtol: 1e-6, "factors"))
    let tokens = try TinyLlamaParityTests.expected().ints("tokens")
    for params in [scaled, try tinyLlama { $0.ropeFrequencyFactors = llamaCpp }] {
      let logits = LlamaModel(parameters: params).logits(tokens: tokens, batch: 2, time: 11)
      XCTAssertNil(allClose(logits, try e.floats("logits"), atol: 2e-5, rtol: 1e-4, "logits"))
    }
  }

  /// Factors of another shape stay factors in GGUF and cannot go to config.json; LLaMA 3.1's
  /// own constants come back from the GGUF as the same `ropeScaling` config.json has.
  func testGGUFRoundTripsOfFactorsAndOfLlama31Scaling() throws {
    let out = try TemporaryDirectory("rope-factors")
    let tokens = try TinyLlamaParityTests.expected().ints("tokens")
    let factors = try expected().floats("rope_freqs")
    let odd = try tinyLlama { $0.ropeFrequencyFactors = factors }
    try ModelExporter.writeGGUF(odd, to: out("odd.gguf"), type: .f32)
    let oddBack = try ModelSource.gguf(out("odd.gguf")).loadParameters(dtype: .f32)
    XCTAssertEqual(oddBack.config, odd.config)
    XCTAssertEqual(LlamaModel(parameters: oddBack).logits(tokens: tokens, batch: 2, time: 11),
                   LlamaModel(parameters: odd).logits(tokens: tokens, batch: 2, time: 11))
    XCTAssertThrowsError(try ModelExporter.writeHuggingFace(odd, to: out("odd-hf"))) { error in
      XCTAssertTrue("\(error)".contains("export as GGUF"), "\(error)")
    }
    XCTAssertEqual(out.contents, ["odd.gguf"], "nothing left of the refused folder")

    let llama31 = try tinyLlama {
      $0.ropeScaling = Llama3RopeScaling(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 8192)
    }
    try ModelExporter.writeGGUF(llama31, to: out("llama31.gguf"), type: .f32)
    XCTAssertTrue(try GGUFFile(path: out("llama31.gguf")).contains(tensor: "rope_freqs.weight"))
    let back = try ModelSource.gguf(out("llama31.gguf")).loadParameters(dtype: .f32)
    XCTAssertEqual(back.config, llama31.config)
    XCTAssertNil(back.config.ropeFrequencyFactors)
  }

  func testHostileFactorsAreRefused() throws {
    var config = try LlamaConfig(huggingFaceConfig: TestModels.tinyLlamaDirectory + "/config.json")
    config.ropeFrequencyFactors = [1, 2, 3]
    XCTAssertTrue(config.problems.contains { $0.contains("needs 8") }, "\(config.problems)")
    config.ropeFrequencyFactors = [1, 2, 3, 4, 5, 6, 7, .nan]
    XCTAssertTrue(config.problems.contains { $0.contains("must be positive") }, "\(config.problems)")
  }
}
