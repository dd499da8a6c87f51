import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// Writing the tiny LLaMA (and SmolLM2 when cached) as GGUF and as a Hugging Face folder, and
/// reading it back with lomo's own readers. scripts/check_exported_model.py checks the same
/// files with gguf-py and transformers.
final class ModelExportTests: XCTestCase {
  static var tinySource: ModelSource { .huggingFace(TestModels.tinyLlamaDirectory) }

  func tinyModel() throws -> LlamaModel { try TinyLlamaParityTests.loadSafetensorsModel() }

  func tokens() throws -> [Int32] { try TinyLlamaParityTests.expected().ints("tokens") }

  func reloadGGUF(_ path: String) throws -> (GGUFFile, LlamaModel) {
    let file = try GGUFFile(path: path)
    let params = try LlamaParameters.load(config: try LlamaConfig(gguf: file), from: file, dtype: .f32)
    return (file, LlamaModel(parameters: params))
  }

  // MARK: GGUF round trips

  func testGGUFF32RoundTripIsBitIdenticalWithIdenticalLogits() throws {
    let model = try tinyModel()
    let out = try TemporaryDirectory("export")
    let summary = try ModelExporter.writeGGUF(model.parameters, to: out("tiny.gguf"), type: .f32, source: Self.tinySource)
    XCTAssertEqual(summary.files, [out("tiny.gguf")])
    XCTAssertEqual(out.contents, ["tiny.gguf"])
    let (file, reloaded) = try reloadGGUF(out("tiny.gguf"))
    XCTAssertEqual(reloaded.config, model.config)
    XCTAssertEqual(file.metadata["general.file_type"], .uint32(0))
    XCTAssertEqual(file.metadata["general.architecture"], .string("llama"))
    XCTAssertTrue(file.tensors.allSatisfy { $0.type == .f32 })
    XCTAssertEqual(file.tensors.map(\.name), ParameterID.all(for: model.config).map(\.ggufName))
    for id in ParameterID.all(for: model.config) {
      XCTAssertEqual(reloaded.parameters[id].floats, model.parameters[id].floats, "\(id)")
    }
    // The stored Q rows are in llama.cpp's order: the committed llama.cpp-layout fixture agrees.
    let reference = try GGUFFile(path: TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-llama-f32.gguf").path)
    XCTAssertEqual(try file.tensorData("blk.1.attn_q.weight"), try reference.tensorData("blk.1.attn_q.weight"))
    XCTAssertEqual(try file.tensorData("blk.1.attn_k.weight"), try reference.tensorData("blk.1.attn_k.weight"))
    let t = try tokens()
    XCTAssertEqual(reloaded.logits(tokens: t, batch: 2, time: 11), model.logits(tokens: t, batch: 2, time: 11))
  }

  func testGGUFF16AndBF16RoundTripWithinTheirRounding() throws {
    let model = try tinyModel()
    let out = try TemporaryDirectory("export")
    let t = try tokens()
    let expectedLogits = model.logits(tokens: t, batch: 2, time: 11)
    for (type, round, ggml) in [(ModelExporter.GGUFType.f16, { (x: Float) in Float(Float16(x)) }, GGMLType.f16),
                                (.bf16, { BFloat16($0).float }, .bf16)] {
      let path = out("tiny-\(type).gguf")
      try ModelExporter.writeGGUF(model.parameters, to: path, type: type, source: Self.tinySource)
      let (file, reloaded) = try reloadGGUF(path)
      XCTAssertEqual(file.metadata["general.file_type"], .uint32(type.fileType))
      for id in ParameterID.all(for: model.config) {
        let info = try file.tensor(id.ggufName)
        XCTAssertEqual(info.type, id.isNorm ? .f32 : ggml, "\(type) \(id)")
        let original = model.parameters[id].floats
        XCTAssertEqual(reloaded.parameters[id].floats, id.isNorm ? original : original.map(round), "\(type) \(id)")
      }
      XCTAssertNil(allClose(reloaded.logits(tokens: t, batch: 2, time: 11), expectedLogits, atol: 3e-2, rtol: 3e-2, "\(type) logits"))
    }
  }

  func testGGUFQ8_0IsOurQuantiseThenDequantiseAndLogitsStayClose() throws {
    let model = try tinyModel()
    let out = try TemporaryDirectory("export")
    try ModelExporter.writeGGUF(model.parameters, to: out("tiny-q8.gguf"), type: .q8_0, source: Self.tinySource)
    let (file, reloaded) = try reloadGGUF(out("tiny-q8.gguf"))
    XCTAssertEqual(file.metadata["general.file_type"], .uint32(7))
    for id in ParameterID.all(for: model.config) {
      var values = model.parameters[id].floats
      XCTAssertEqual(try file.tensor(id.ggufName).type, id.isNorm ? .f32 : .q8_0, "\(id)")
      if !id.isNorm {
        let shape = id.shape(in: model.config)
        let heads: Int? = switch id {
        case .layer(_, .query): model.config.heads
        case .layer(_, .key): model.config.kvHeads
        default: nil
        }
        if let heads { try values.withUnsafeMutableBufferPointer { try QKPermutation.apply($0, rows: shape[0], columns: shape[1], heads: heads) } }
        let q = Quantize.encode(.q8_0, values)
        q.withUnsafeBytes { Dequantize.toFloat(.q8_0, from: $0.baseAddress!, count: values.count, into: &values) }
        if let heads { values = try QKPermutation.undo(values, rows: shape[0], columns: shape[1], heads: heads) }
      }
      XCTAssertEqual(reloaded.parameters[id].floats, values, "\(id)")
    }
    let t = try tokens()
    XCTAssertNil(allClose(reloaded.logits(tokens: t, batch: 2, time: 11), model.logits(tokens: t, batch: 2, time: 11),
                          atol: 2e-2, rtol: 2e-2, "Q8_0 logits"))
  }

  func testGGUFFromAGGUFSourceCopiesGeneralMetadata() throws {
    let sourcePath = TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-llama-f32.gguf").path
    let params = try ModelSource.gguf(sourcePath).loadParameters(dtype: .f32)
    let out = try TemporaryDirectory("export")
    let summary = try ModelExporter.writeGGUF(params, to: out("copy.gguf"), type: .f32, source: .gguf(sourcePath))
    XCTAssertEqual(summary.missing, ["tokenizer metadata (tokenizer.ggml.*)"], "the fixture has no tokenizer")
    let copy = try GGUFFile(path: out("copy.gguf"))
    let source = try GGUFFile(path: sourcePath)
    for key in source.metadata.keys where key != "general.file_type" {
      XCTAssertEqual(copy.metadata[key], source.metadata[key], key)
    }
    for info in source.tensors { XCTAssertEqual(try copy.tensorData(info.name), try source.tensorData(info.name), info.name) }
  }

  // MARK: Hugging Face folder

  func testHuggingFaceFolderRoundTripIsBitIdentical() throws {
    let model = try tinyModel()
    let out = try TemporaryDirectory("export")
    let dir = out("hf")
    let summary = try ModelExporter.writeHuggingFace(model.parameters, to: dir, source: Self.tinySource)
    XCTAssertEqual(Set(summary.files), Set(["config.json", "generation_config.json", "model.safetensors"].map { dir + "/" + $0 }))
    XCTAssertEqual(summary.missing, ["tokenizer.json (the source folder has none)"])
    XCTAssertEqual(out.contents, ["hf"], "no staging folder left")
    let source = try ModelSource.resolve(dir)
    XCTAssertEqual(source, .huggingFace(dir))
    let reloaded = try source.loadParameters(dtype: .f32)
    XCTAssertEqual(reloaded.config, model.config)
    for id in ParameterID.all(for: model.config) {
      XCTAssertEqual(reloaded[id].floats, model.parameters[id].floats, "\(id)")
    }
    let t = try tokens()
    XCTAssertEqual(LlamaModel(parameters: reloaded).logits(tokens: t, batch: 2, time: 11), model.logits(tokens: t, batch: 2, time: 11))
    let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as? [String: Any])
    XCTAssertEqual(config["architectures"] as? [String], ["LlamaForCausalLM"])
    XCTAssertEqual(config["model_type"] as? String, "llama")
    XCTAssertEqual(config["rms_norm_eps"] as? Double, 1e-5)
    XCTAssertEqual(config["bos_token_id"] as? Int, 1)
    XCTAssertEqual(config["eos_token_id"] as? Int, 2)
    XCTAssertEqual(config["torch_dtype"] as? String, "float32")
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/generation_config.json")),
                   try Data(contentsOf: URL(fileURLWithPath: TestModels.tinyLlamaDirectory + "/generation_config.json")))
  }

  func testTiedBF16ModelOmitsTheLMHeadAndCopiesTokenizerFiles() throws {
    let config = LlamaConfig(layers: 1, hiddenSize: 32, intermediateSize: 64, heads: 2, kvHeads: 1, vocabSize: 40, tiedEmbeddings: true)
    let params = LlamaParameters.random(config: config, dtype: .bf16, seed: 3)
    let out = try TemporaryDirectory("export")
    let source = out("src")
    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
    try Data("{\"num_hidden_layers\":1,\"hidden_size\":32,\"intermediate_size\":64,\"num_attention_heads\":2,\"vocab_size\":40,\"eos_token_id\":[5,6]}".utf8)
      .write(to: URL(fileURLWithPath: source + "/config.json"))
    try Data("{\"model\":{}}".utf8).write(to: URL(fileURLWithPath: source + "/tokenizer.json"))
    try Data("{\"eos_token\":\"x\"}".utf8).write(to: URL(fileURLWithPath: source + "/tokenizer_config.json"))
    let summary = try ModelExporter.writeHuggingFace(params, to: out("hf"), source: .huggingFace(source))
    XCTAssertEqual(summary.missing, [String]())
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out("hf")).sorted(),
                   ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
    let weights = try SafetensorsFile(path: out("hf") + "/model.safetensors")
    XCTAssertNil(weights.tensors["lm_head.weight"])
    XCTAssertEqual(weights.tensors["model.embed_tokens.weight"]?.dtype, .bf16)
    XCTAssertEqual(weights.tensors.count, ParameterID.all(for: config).count)
    let reloaded = try ModelSource.huggingFace(out("hf")).loadParameters(dtype: .bf16)
    XCTAssertEqual(reloaded.config, config)
    for id in ParameterID.all(for: config) { XCTAssertEqual(reloaded[id].floats, params[id].floats, "\(id)") }
    let written = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out("hf") + "/config.json"))) as? [String: Any])
    XCTAssertEqual(written["eos_token_id"] as? Int, 5)
    XCTAssertEqual(written["tie_word_embeddings"] as? Bool, true)
    XCTAssertEqual(written["dtype"] as? String, "bfloat16")
  }

  // MARK: Atomicity

  func testExistingOutputsAreKeptUnlessOverwriteAndFailuresLoseNothing() throws {
    let model = try tinyModel()
    let out = try TemporaryDirectory("export")
    // GGUF file.
    let gguf = out("model.gguf")
    try Data("old model".utf8).write(to: URL(fileURLWithPath: gguf))
    XCTAssertThrowsError(try ModelExporter.writeGGUF(model.parameters, to: gguf, type: .q8_0, source: Self.tinySource)) {
      XCTAssertEqual($0 as? FileWriteError, FileWriteError(path: gguf, problem: .destinationExists))
    }
    XCTAssertEqual(try String(contentsOfFile: gguf, encoding: .utf8), "old model")
    try ModelExporter.writeGGUF(model.parameters, to: gguf, type: .q8_0, source: Self.tinySource, overwrite: true)
    XCTAssertEqual(try GGUFFile(path: gguf).metadata["general.file_type"], .uint32(7))

    // Hugging Face folder.
    let dir = out("hf")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
    try Data("keep me".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
    XCTAssertThrowsError(try ModelExporter.writeHuggingFace(model.parameters, to: dir, source: Self.tinySource)) {
      XCTAssertEqual($0 as? FileWriteError, FileWriteError(path: dir, problem: .destinationExists))
    }
    // A failure after the weights are written: a source "tokenizer.json" that is a folder.
    let badSource = out("bad-source")
    try FileManager.default.createDirectory(atPath: badSource + "/tokenizer.json", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: TestModels.tinyLlamaDirectory + "/config.json", toPath: badSource + "/config.json")
    XCTAssertThrowsError(try ModelExporter.writeHuggingFace(model.parameters, to: dir, source: .huggingFace(badSource), overwrite: true)) { error in
      guard let e = error as? FileWriteError, case .io = e.problem else { return XCTFail("\(error)") }
      XCTAssertEqual(e.path, dir)
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["notes.txt"])
    XCTAssertEqual(out.contents, ["bad-source", "hf", "model.gguf"], "no temporary file or folder left")
    try ModelExporter.writeHuggingFace(model.parameters, to: dir + "/", source: Self.tinySource, overwrite: true)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["config.json", "generation_config.json", "model.safetensors"])
    XCTAssertEqual(out.contents, ["bad-source", "hf", "model.gguf"])
  }

  // MARK: SmolLM2

  func testSmolLM2Q8_0ExportKeepsConfigAndTokenizerMetadata() throws {
    guard let model = SmolLM2Tests.model else {
      throw XCTSkip("SmolLM2 is not in \(ModelSource.cacheDirectory); run bash scripts/setup.sh")
    }
    let sourcePath = ModelSource.defaultPath
    let out = try TemporaryDirectory("export")
    let path = out("smollm2-q8_0.gguf")
    let summary = try ModelExporter.writeGGUF(model.parameters, to: path, type: .q8_0, source: .gguf(sourcePath))
    XCTAssertEqual(summary.missing, [String]())
    let source = try GGUFFile(path: sourcePath)
    let (file, reloaded) = try reloadGGUF(path)
    XCTAssertEqual(reloaded.config, model.config)
    let m = file.metadata, s = source.metadata
    XCTAssertEqual(try m.stringArray("tokenizer.ggml.tokens").count, 49152)
    XCTAssertEqual(try m.stringArray("tokenizer.ggml.tokens"), try s.stringArray("tokenizer.ggml.tokens"))
    XCTAssertEqual(try m.stringArray("tokenizer.ggml.merges"), try s.stringArray("tokenizer.ggml.merges"))
    XCTAssertEqual(m["tokenizer.ggml.token_type"], s["tokenizer.ggml.token_type"])
    XCTAssertEqual(try m.string("tokenizer.chat_template"), try s.string("tokenizer.chat_template"))
    for key in s.keys where key.hasPrefix("tokenizer.") || (key.hasPrefix("general.") && key != "general.file_type") {
      XCTAssertEqual(m[key], s[key], key)
    }
    XCTAssertEqual(m["general.file_type"], .uint32(7))
    XCTAssertTrue(file.tensors.allSatisfy { $0.type == ($0.dims.count == 1 ? .f32 : .q8_0) })
    // Re-quantising the dequantised Q4_1 weights to Q8_0 moves logits a little (measured: mean
    // 0.14, worst 0.87 on a logit range of 44) and keeps every greedy token.
    let prompt: [Int32] = [1, 504, 3458, 282, 4649, 314, 2]
    let a = model.logits(tokens: prompt, batch: 1, time: prompt.count)
    let b = reloaded.logits(tokens: prompt, batch: 1, time: prompt.count)
    let differences = zip(a, b).map { abs($0 - $1) }
    let worst = differences.max()!, mean = differences.reduce(0, +) / Float(differences.count)
    let range = a.max()! - a.min()!
    XCTAssertLessThan(worst, 0.05 * range, "largest logit change after Q8_0 export (logit range \(range))")
    XCTAssertLessThan(mean, 0.01 * range, "mean logit change after Q8_0 export (worst \(worst), range \(range))")
    let v = model.config.vocabSize
    for t in 0..<prompt.count {
      let argmax = { (x: ArraySlice<Float>) in x.indices.max { x[$0] < x[$1] }! }
      XCTAssertEqual(argmax(a[(t * v)..<((t + 1) * v)]), argmax(b[(t * v)..<((t + 1) * v)]), "greedy token at \(t)")
    }
  }

  /// The tokenizer.json rebuilt from SmolLM2's GGUF metadata is SmolLM2's own tokenizer.json
  /// (fetched into the cache by scripts/setup.sh): vocabulary, merges, added tokens,
  /// pre-tokenizer and decoder.
  func testSmolLM2TokenizerJSONIsRebuiltExactlyFromGGUFMetadata() throws {
    let reference = ModelSource.cacheDirectory + "/smollm2-135m.tokenizer.json"
    guard FileManager.default.fileExists(atPath: ModelSource.defaultPath), FileManager.default.fileExists(atPath: reference) else {
      throw XCTSkip("needs \(ModelSource.defaultPath) and \(reference); run bash scripts/setup.sh")
    }
    let metadata = try GGUFFile(path: ModelSource.defaultPath).metadata
    guard case .files(let files) = ModelExporter.huggingFaceTokenizer(from: metadata, maxContext: 8192) else {
      return XCTFail("SmolLM2's tokenizer should convert")
    }
    XCTAssertEqual(Set(files.keys), ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
    let ours = try XCTUnwrap(JSONSerialization.jsonObject(with: files["tokenizer.json"]!) as? [String: Any])
    let real = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reference))) as? [String: Any])
    XCTAssertEqual(Set(ours.keys), Set(real.keys))
    for key in real.keys {
      XCTAssertEqual(ours[key].map { [$0] as NSArray }, real[key].map { [$0] as NSArray }, "tokenizer.json '\(key)' differs")
    }
    let config = try XCTUnwrap(JSONSerialization.jsonObject(with: files["tokenizer_config.json"]!) as? [String: Any])
    XCTAssertEqual(config["chat_template"] as? String, try metadata.string("tokenizer.chat_template"))
    XCTAssertEqual(config["eos_token"] as? String, "<|im_end|>")
    XCTAssertEqual(config["bos_token"] as? String, "<|im_start|>")

    // A GGUF without a tokenizer is reported, not guessed.
    let tiny = try GGUFFile(path: TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-llama-f32.gguf").path)
    guard case .unsupported(let reason) = ModelExporter.huggingFaceTokenizer(from: tiny.metadata, maxContext: 64) else {
      return XCTFail("the tiny fixture has no tokenizer")
    }
    XCTAssertEqual(reason, "the GGUF has no tokenizer")
  }
}
