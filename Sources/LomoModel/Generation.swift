import LomoCore
import LomoKernels

/// How `LlamaModel.generate` picks each next token.
public struct SamplingOptions: Sendable {
  /// 0 picks the most likely token (greedy); otherwise logits are divided by it.
  public var temperature: Float
  /// Nucleus sampling: keep the smallest set of tokens whose probability reaches `topP`.
  public var topP: Float
  public var seed: UInt64

  public init(temperature: Float = 0, topP: Float = 1, seed: UInt64 = 0) {
    self.temperature = temperature
    self.topP = topP
    self.seed = seed
  }

  public static let greedy = SamplingOptions()
}

/// The KV cache of one conversation across `LlamaModel.generate` calls: when a prompt starts
/// with the tokens the cache holds (the previous prompt and reply, as the next turn of a chat
/// renders them), only the rest runs.
public final class GenerationSession {
  var cache: KVCache?
  /// The tokens whose positions `cache` holds, in order.
  var tokens: [Int32] = []

  public init() {}

  /// Positions the cache holds.
  public var cachedTokens: Int { tokens.count }
}

/// A KV cache as one inference pass over a [B, T] batch uses it.
enum CacheUse {
  /// Row b is cache sequence b, continued by its first lengths[b] positions, which are stored
  /// (the rest of the row is padding).
  case appending(KVCache, lengths: [Int])
  /// Row b continues cache sequence sequences[b]; nothing is stored.
  case continuing(KVCache, sequences: [Int])

  var cache: KVCache {
    switch self {
    case .appending(let cache, _), .continuing(let cache, _): cache
    }
  }

  /// The cache sequence that row `b` continues.
  func sequence(ofRow b: Int) -> Int {
    switch self {
    case .appending: b
    case .continuing(_, let sequences): sequences[b]
    }
  }
}

extension LlamaModel {
  /// Logits [V] of the token after `tokens` (one sequence), which continue the positions of
  /// sequence 0 of `cache` and are appended to it: a forward over `tokens.count` new positions.
  ///
  /// - Precondition: the new positions fit the cache's capacity, tokens in 0..<V.
  public func nextTokenLogits(_ tokens: [Int32], appendingTo cache: KVCache) -> [Float] {
    let t = tokens.count
    let s = prepareInferenceState(batch: 1, time: t)
    load(tokens: tokens, targets: [Int32](repeating: -1, count: t), into: s)
    runLayers(s, cache: .appending(cache, lengths: [t]))
    let c = config.hiddenSize
    return [Float](unsafeUninitializedCapacity: config.vocabSize) { out, initialized in
      MatMul.forward(out: out.baseAddress!, inp: s.finalNorm.pointer + (t - 1) * c,
                     weight: weight(headWeights, rows: 1), rows: 1, inDim: c,
                     outDim: config.vocabSize, scratch: gemm)
      initialized = config.vocabSize
    }
  }

  /// Continues `prompt` by up to `maxNewTokens` tokens, stopping after any of `stopTokens`
  /// (which is included in the result) or at the end of the context. Calls `onToken` with each
  /// new token as it is chosen.
  ///
  /// Throws a `GenerationError` for an empty prompt, one of `config.maxContext` tokens or more
  /// (it is not truncated: cutting a prompt changes what it asks), a token id beyond the
  /// vocabulary, or logits holding inf or NaN (checked per token: one pass over [V]).
  ///
  /// The prompt runs once and each new token once after it, through a `KVCache` of the
  /// sequence (2 · L · KVH·D floats per position, sized for prompt + maxNewTokens). With
  /// `session` the cache is the session's: the prompt's start that equals the tokens it holds
  /// (all but the prompt's last token, whose logits are needed) is not run again, and the cache
  /// holds the prompt and the reply afterwards.
  public func generate(
    prompt: [Int32], maxNewTokens: Int, options: SamplingOptions = .greedy,
    stopTokens: Set<Int32> = [], session: GenerationSession? = nil, onToken: (Int32) -> Void = { _ in }
  ) throws -> [Int32] {
    guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
    guard prompt.count < config.maxContext else {
      throw GenerationError.promptTooLong(tokens: prompt.count, context: config.maxContext)
    }
    if let i = prompt.firstIndex(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
      throw GenerationError.tokenOutOfRange(position: i, token: prompt[i], vocabularySize: config.vocabSize)
    }
    var rng = Xoshiro256(seed: options.seed)
    var generated: [Int32] = []
    guard maxNewTokens > 0 else { return generated }
    // The last new token is chosen but never run, so the cache needs one position less.
    let needed = min(config.maxContext, prompt.count + min(maxNewTokens - 1, config.maxContext))
    var held: [Int32] = []
    if let session, let old = session.cache {
      let common = zip(session.tokens, prompt).prefix { $0 == $1 }.count
      held = Array(prompt.prefix(min(common, prompt.count - 1)))
      old.truncate(to: held.count)
    }
    let cache = session?.cache.map { $0.capacity >= needed ? $0 : $0.copy(capacity: needed) }
      ?? KVCache(config: config, capacity: needed, ledger: ledger)
    session?.cache = cache
    defer { session?.tokens = held }
    var pending = Array(prompt[held.count...])
    while generated.count < maxNewTokens && prompt.count + generated.count < config.maxContext {
      let logits = nextTokenLogits(pending, appendingTo: cache)
      held += pending
      guard logits.allSatisfy(\.isFinite) else {
        throw GenerationError.nonFiniteLogits(position: prompt.count + generated.count)
      }
      let next = Sampler.pick(logits, options: options, rng: &rng)
      pending = [next]
      generated.append(next)
      onToken(next)
      if stopTokens.contains(next) { break }
    }
    return generated
  }
}

/// Token choice from logits: argmax, or temperature + nucleus sampling.
enum Sampler {
  static func pick(_ logits: [Float], options: SamplingOptions, rng: inout Xoshiro256) -> Int32 {
    guard options.temperature > 0 else {
      // First index of the maximum, as torch.argmax.
      var best = 0
      for i in logits.indices where logits[i] > logits[best] { best = i }
      return Int32(best)
    }
    let scaled = logits.map { $0 / options.temperature }
    let maxLogit = scaled.max() ?? 0
    var probabilities = scaled.map { Double(VectorMath.exp($0 - maxLogit)) }
    let total = probabilities.reduce(0, +)
    probabilities = probabilities.map { $0 / total }
    let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
    var kept: [Int] = []
    var mass = 0.0
    for i in order {
      kept.append(i)
      mass += probabilities[i]
      if mass >= Double(options.topP) { break }
    }
    var draw = Double.random(in: 0..<mass, using: &rng)
    for i in kept {
      draw -= probabilities[i]
      if draw < 0 { return Int32(i) }
    }
    return Int32(kept.last!)
  }
}
