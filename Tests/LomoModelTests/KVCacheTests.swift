import Foundation
import LomoCore
import LomoKernels
import LomoModel
import LomoTestSupport
import XCTest

/// Inference through a `KVCache` on the tiny random LLaMA (and Gemma 3, whose sliding window
/// masks cached keys): a continuation that runs only its new tokens gives what running the
/// whole sequence gives.
final class KVCacheTests: XCTestCase {
  let sequence: [Int32] = [1, 17, 33, 200, 5, 9, 101, 64, 3, 250, 12, 7]

  /// The logits [V] of the last position of `tokens`, from one pass over all of them.
  func lastLogits(_ model: LlamaModel, _ tokens: [Int32]) -> [Float] {
    Array(model.logits(tokens: tokens, batch: 1, time: tokens.count).suffix(model.config.vocabSize))
  }

  /// A prompt, then one token at a time: each step's logits equal those of the whole sequence
  /// so far, in f32 and in bf16.
  func testEachNewTokenGivesTheLogitsOfTheWholeSequence() throws {
    // The tiny Gemma 3's window of 4 positions: the cached keys outside it are masked.
    let gemma = { (dtype: DType) in try ModelSource.huggingFace(FamilyParityTests.folder(.gemma3)).loadParameters(dtype: dtype) }
    for (dtype, load) in [(DType.f32, { try TestModels.tinyLlama(dtype: $0) }), (.bf16, { try TestModels.tinyLlama(dtype: $0) }),
                          (.f32, gemma)] as [(DType, (DType) throws -> LlamaParameters)] {
      let model = LlamaModel(parameters: try load(dtype))
      let cache = KVCache(config: model.config, capacity: sequence.count)
      var pending = Array(sequence.prefix(5))
      for end in 5...sequence.count {
        let cached = model.nextTokenLogits(pending, appendingTo: cache)
        XCTAssertEqual(cache.counts, [end])
        let whole = lastLogits(model, Array(sequence.prefix(end)))
        XCTAssertNil(allClose(cached, whole, atol: 1e-4, rtol: 1e-4, "\(model.config.family) \(dtype) after \(end) tokens"))
        if end < sequence.count { pending = [sequence[end]] }
      }
    }
  }

  /// Greedy generation through the cache picks the tokens that re-running the whole sequence
  /// for each token picks.
  func testGenerationEqualsArgmaxOfWholeSequences() throws {
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    var tokens: [Int32] = [1, 40, 41]
    let generated = try model.generate(prompt: tokens, maxNewTokens: 20)
    var expected: [Int32] = []
    while expected.count < 20 {
      let logits = lastLogits(model, tokens)
      let next = Int32(logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!)
      expected.append(next)
      tokens.append(next)
    }
    XCTAssertEqual(generated, expected)
  }

  /// Candidates continuing two prompts of different lengths, the prompts appended in the same
  /// pass: each row's per-token NLL equals that of the prompt + candidate run whole, and a
  /// second batch continuing the cache (no prompts appended) sees the same prompts.
  func testCandidatesContinuingTheirPromptsScoreAsWholeSequences() throws {
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    let prompts: [[Int32]] = [[1, 17, 33, 200, 5, 9], [1, 8]]
    let candidates: [(prompt: Int, tokens: [Int32])] = [(0, [40, 2]), (1, [41, 42, 43, 2]), (0, [99, 98, 2])]
    let cache = KVCache(config: model.config, sequences: 2, capacity: 8)
    // Rows: last prompt token + candidate, right-padded; targets the candidate tokens.
    let time = candidates.map { $0.tokens.count }.max()!
    var tokens: [Int32] = [], targets: [Int32] = []
    for c in candidates {
      let row = [prompts[c.prompt].last!] + c.tokens.dropLast()
      tokens += row + [Int32](repeating: 0, count: time - row.count)
      targets += c.tokens + [Int32](repeating: -100, count: time - c.tokens.count)
    }
    func scored(appending: [[Int32]]) -> [Float] {
      var nll = [Float](repeating: .nan, count: candidates.count * time)
      _ = nll.withUnsafeMutableBufferPointer {
        model.loss(tokens: tokens, targets: targets, batch: candidates.count, time: time, nll: $0.baseAddress!,
                   continuing: (cache, candidates.map(\.prompt)), appendingFirst: appending)
      }
      return nll
    }
    let first = scored(appending: prompts.map { Array($0.dropLast()) })
    XCTAssertEqual(cache.counts, [5, 1])
    let again = scored(appending: [])
    XCTAssertEqual(cache.counts, [5, 1], "continuing stores nothing")
    for (r, c) in candidates.enumerated() {
      let whole = prompts[c.prompt] + c.tokens
      let wholeTargets = [Int32](repeating: -100, count: prompts[c.prompt].count - 1) + c.tokens
      var expected = [Float](repeating: 0, count: whole.count - 1)
      _ = expected.withUnsafeMutableBufferPointer {
        model.loss(tokens: Array(whole.dropLast()), targets: wholeTargets, batch: 1, time: whole.count - 1,
                   nll: $0.baseAddress!)
      }
      let tail = Array(expected.suffix(c.tokens.count))
      XCTAssertNil(allClose(Array(first[(r * time)..<(r * time + c.tokens.count)]), tail, atol: 1e-5, rtol: 1e-4, "row \(r)"))
      XCTAssertEqual(Array(again[(r * time)..<(r * time + c.tokens.count)]), Array(first[(r * time)..<(r * time + c.tokens.count)]))
    }
  }

  /// A conversation through one session: a next prompt that extends the last prompt and reply,
  /// one that shares only its start (an earlier turn edited), and one that needs a larger
  /// cache each generate what a fresh generation of that prompt generates, and run only the
  /// tokens the cache did not hold.
  func testASessionRunsOnlyWhatItHasNotCached() throws {
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    let session = GenerationSession()
    let first: [Int32] = [1, 40, 41, 42]
    let reply = try model.generate(prompt: first, maxNewTokens: 5, session: session)
    XCTAssertEqual(reply, try model.generate(prompt: first, maxNewTokens: 5))
    XCTAssertEqual(session.cachedTokens, first.count + reply.count - 1, "the last token chosen was never run")
    for prompt in [first + reply + [7, 8, 9], [1, 40, 99, 98, 97], first + reply + [7, 8, 9] + [Int32](repeating: 5, count: 20)] {
      let cached = try model.generate(prompt: prompt, maxNewTokens: 6, session: session)
      XCTAssertEqual(cached, try model.generate(prompt: prompt, maxNewTokens: 6), "prompt \(prompt)")
      XCTAssertEqual(session.cachedTokens, prompt.count + cached.count - 1)
    }
  }
}
