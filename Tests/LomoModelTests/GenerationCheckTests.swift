import LomoCore
import LomoModel
import LomoTestSupport
import XCTest

/// `generate` refuses what it cannot continue (an empty or too long prompt, unknown ids,
/// non-finite logits) with a `GenerationError`, and `firstNonFinite` finds inf/NaN weights.
final class GenerationCheckTests: XCTestCase {
  func testAPromptThatFillsTheContextIsAnError() throws {
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    let context = model.config.maxContext
    let full = [Int32](repeating: 3, count: context)
    XCTAssertThrowsError(try model.generate(prompt: full, maxNewTokens: 1)) {
      XCTAssertEqual($0 as? GenerationError, .promptTooLong(tokens: context, context: context))
    }
    XCTAssertEqual(try model.generate(prompt: Array(full.dropFirst()), maxNewTokens: 4).count, 1,
                   "one position left: one token")
    XCTAssertThrowsError(try model.generate(prompt: [], maxNewTokens: 1)) {
      XCTAssertEqual($0 as? GenerationError, .emptyPrompt)
    }
    XCTAssertThrowsError(try model.generate(prompt: [1, 256], maxNewTokens: 1)) {
      XCTAssertEqual($0 as? GenerationError, .tokenOutOfRange(position: 1, token: 256, vocabularySize: 256))
    }
  }

  func testNonFiniteWeightsAreFoundAndGiveNoTokens() throws {
    for dtype in DType.allCases {
      let parameters = try TestModels.tinyLlama(dtype: dtype)
      XCTAssertNil(parameters.firstNonFinite(), "\(dtype)")
      var values = parameters.finalNorm.floats
      values[5] = .nan
      values.withUnsafeBufferPointer { parameters.finalNorm.assign($0.baseAddress!) }
      XCTAssertEqual(parameters.firstNonFinite()?.parameter, .finalNorm, "\(dtype)")
      XCTAssertEqual(parameters.firstNonFinite()?.index, 5, "\(dtype)")
      XCTAssertThrowsError(try LlamaModel(parameters: parameters).generate(prompt: [1, 2], maxNewTokens: 3)) {
        XCTAssertEqual($0 as? GenerationError, .nonFiniteLogits(position: 2), "\(dtype)")
      }
    }
  }

  func testInfinityIsFoundInEveryDType() throws {
    for dtype in DType.allCases {
      let parameters = try TestModels.tinyLlama(dtype: dtype)
      var values = parameters.embedding.floats
      values[values.count - 1] = -.infinity
      values.withUnsafeBufferPointer { parameters.embedding.assign($0.baseAddress!) }
      XCTAssertEqual(parameters.firstNonFinite()?.parameter, .embedding, "\(dtype)")
      XCTAssertEqual(parameters.firstNonFinite()?.index, values.count - 1, "\(dtype)")
    }
  }
}
