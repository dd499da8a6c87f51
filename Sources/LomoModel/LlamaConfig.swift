import Foundation

/// The hyperparameters of a LLaMA-architecture decoder (LLaMA 1/2/3, SmolLM2, TinyLlama,
/// Mistral without sliding window) or of a family that differs from it in a few named ways
/// (`family`: Qwen2/2.5, Qwen3). Shape legend used across lomo: B batch, T time,
/// C = `hiddenSize`, H = `heads`, KVH = `kvHeads`, D = `headDim`, F = `intermediateSize`,
/// V = `vocabSize`, L = `layers`.
public struct LlamaConfig: Sendable, Equatable, Codable {
  /// Which family's differences from LLaMA apply (`ModelFamily`).
  public var family: ModelFamily
  public var layers: Int
  public var hiddenSize: Int
  public var intermediateSize: Int
  public var heads: Int
  public var kvHeads: Int
  public var headDim: Int
  public var vocabSize: Int
  public var ropeTheta: Float
  public var rmsEps: Float
  /// The LM head shares the token embedding matrix.
  public var tiedEmbeddings: Bool
  public var maxContext: Int
  /// LLaMA 3's frequency-dependent RoPE scaling; nil for plain RoPE.
  public var ropeScaling: Llama3RopeScaling?
  /// A divisor per RoPE frequency [D/2] as llama.cpp stores it (`rope_freqs.weight`), when a
  /// GGUF's factors are not LLaMA 3's formula with its usual constants (those become
  /// `ropeScaling`); nil otherwise.
  public var ropeFrequencyFactors: [Float]?
  /// Gemma 3: keys visible to a query on the local layers, its own position included (the
  /// last `slidingWindow` positions); 0 for full attention on every layer.
  public var slidingWindow: Int
  /// Gemma 3: every `slidingWindowPattern`-th layer (l % pattern == pattern − 1) attends to the
  /// whole sequence, the others through the sliding window.
  public var slidingWindowPattern: Int
  /// Gemma 3: the RoPE base of the sliding-window layers (`ropeTheta` is the global layers').
  public var localRopeTheta: Float
  /// Gemma 3: attention scores are q·k / sqrt(this) (elsewhere the head dim).
  public var queryPreAttentionScalar: Int

  public init(
    family: ModelFamily = .llama, layers: Int, hiddenSize: Int, intermediateSize: Int, heads: Int, kvHeads: Int,
    headDim: Int? = nil, vocabSize: Int, ropeTheta: Float = 10_000, rmsEps: Float = 1e-5,
    tiedEmbeddings: Bool, maxContext: Int = 2048, ropeScaling: Llama3RopeScaling? = nil,
    ropeFrequencyFactors: [Float]? = nil, slidingWindow: Int = 0, slidingWindowPattern: Int = 1,
    localRopeTheta: Float = 10_000, queryPreAttentionScalar: Int? = nil
  ) {
    self.family = family
    self.layers = layers
    self.hiddenSize = hiddenSize
    self.intermediateSize = intermediateSize
    self.heads = heads
    self.kvHeads = kvHeads
    self.headDim = headDim ?? hiddenSize / max(heads, 1)
    self.vocabSize = vocabSize
    self.ropeTheta = ropeTheta
    self.rmsEps = rmsEps
    self.tiedEmbeddings = tiedEmbeddings
    self.maxContext = maxContext
    self.ropeScaling = ropeScaling
    self.ropeFrequencyFactors = ropeFrequencyFactors
    self.slidingWindow = slidingWindow
    self.slidingWindowPattern = slidingWindowPattern
    self.localRopeTheta = localRopeTheta
    self.queryPreAttentionScalar = queryPreAttentionScalar ?? self.headDim
  }

  /// Whether block `l` attends through the sliding window (Gemma 3's local layers).
  public func isSlidingWindowLayer(_ l: Int) -> Bool {
    slidingWindow > 0 && l % slidingWindowPattern != slidingWindowPattern - 1
  }

  /// The softmax scale of attention scores: 1 / sqrt(`queryPreAttentionScalar`).
  public var attentionScale: Float { 1 / Float(queryPreAttentionScalar).squareRoot() }

  /// The sliding-window layers' RoPE inverse frequencies [D/2]: 1 / localTheta^(2i/D).
  public var localRopeInverseFrequencies: [Float] {
    var local = self
    (local.ropeTheta, local.ropeScaling, local.ropeFrequencyFactors) = (localRopeTheta, nil, nil)
    return local.ropeInverseFrequencies
  }

  /// RoPE inverse frequencies [D/2] as transformers computes them in f32:
  /// 1 / theta^(2i/D), rescaled by `ropeScaling` or divided by `ropeFrequencyFactors`.
  public var ropeInverseFrequencies: [Float] {
    if let factors = ropeFrequencyFactors { return zip(plainRopeInverseFrequencies, factors).map { $0 / $1 } }
    return ropeScaling.map { s in plainRopeInverseFrequencies.map(s.scale) } ?? plainRopeInverseFrequencies
  }

  /// 1 / theta^(2i/D) for i in 0..<D/2, unscaled.
  var plainRopeInverseFrequencies: [Float] {
    (0..<headDim / 2).map { i in 1 / Float(pow(Double(ropeTheta), Double(Float(2 * i) / Float(headDim)))) }
  }

  /// The divisor of each RoPE frequency [D/2] as llama.cpp's `rope_freqs.weight` holds it;
  /// nil for plain RoPE.
  public var ropeFactors: [Float]? {
    if let ropeFrequencyFactors { return ropeFrequencyFactors }
    guard ropeScaling != nil else { return nil }
    return zip(plainRopeInverseFrequencies, ropeInverseFrequencies).map { $0 / $1 }
  }

  /// Width of the query projection output, H·D.
  public var queryDim: Int { heads * headDim }
  /// Width of each of the key and value projection outputs, KVH·D.
  public var kvDim: Int { kvHeads * headDim }

  /// Checks the relations the kernels rely on and the bounds of `limits`; returns a
  /// description of each violation. A configuration without problems has every size in
  /// 1...its limit, so products of sizes (tensor element counts, `parameterCount`) cannot
  /// overflow `Int`.
  public var problems: [String] { problems(naming: { path in Self.limits.first { $0.path == path }?.name ?? "\(path)" }) }

  /// `problems` with each field called as `naming` says (a file's own key, `llama.block_count`).
  func problems(naming: (KeyPath<LlamaConfig, Int>) -> String) -> [String] {
    var found: [String] = []
    for (_, path, limit) in Self.limits {
      let value = self[keyPath: path]
      if value <= 0 { found.append("\(naming(path)) must be positive, got \(value)") }
      if value > limit { found.append("\(naming(path)) is \(value), above lomo's limit of \(limit)") }
    }
    if kvHeads > 0 && heads % kvHeads != 0 {
      found.append("\(naming(\.heads)) (\(heads)) must be a multiple of \(naming(\.kvHeads)) (\(kvHeads))")
    }
    if headDim % 2 != 0 { found.append("\(naming(\.headDim)) (\(headDim)) must be even for RoPE") }
    if !(ropeTheta > 0) { found.append("rope theta must be positive, got \(ropeTheta)") }
    if !(rmsEps > 0) { found.append("rms eps must be positive, got \(rmsEps)") }
    if !(localRopeTheta > 0) { found.append("local rope theta must be positive, got \(localRopeTheta)") }
    if !(0...(1 << 20)).contains(slidingWindow) { found.append("\(naming(\.slidingWindow)) is \(slidingWindow), outside 0...\(1 << 20)") }
    if let factors = ropeFrequencyFactors {
      if factors.count != headDim / 2 {
        found.append("rope_freqs has \(factors.count) factors, \(naming(\.headDim)) \(headDim) needs \(headDim / 2)")
      }
      if let bad = factors.first(where: { !($0.isFinite && $0 > 0) }) { found.append("rope_freqs holds \(bad), factors must be positive") }
    }
    return found
  }

  /// The integer sizes `problems` checks, by the name it reports, with their upper bounds:
  /// several times those of the largest LLaMA-architecture models (LLaMA 3.1 405B: 126 layers,
  /// hidden 16384, ffn 53248, 128 heads, vocab 128256, context 131072). A value above one is a
  /// corrupt file; the bounds keep every product of sizes below 2^62 and the RoPE table
  /// (context × head dim floats) within 4 GiB.
  public static let limits: [(name: String, path: KeyPath<LlamaConfig, Int> & Sendable, limit: Int)] = [
    ("layers", \.layers, 1024), ("hidden size", \.hiddenSize, 1 << 17),
    ("intermediate size", \.intermediateSize, 1 << 20), ("heads", \.heads, 1024),
    ("kv heads", \.kvHeads, 1024), ("head dim", \.headDim, 1024), ("vocab size", \.vocabSize, 1 << 24),
    ("max context", \.maxContext, 1 << 20), ("sliding window pattern", \.slidingWindowPattern, 1024),
    ("query pre-attention scalar", \.queryPreAttentionScalar, 1 << 20),
  ]

  /// Number of scalar parameters (the tied LM head counted once).
  public var parameterCount: Int {
    ParameterID.all(for: self).reduce(0) { $0 + $1.shape(in: self).reduce(1, *) }
  }

  /// Floating-point operations of one forward pass over a [B, T] batch, counting a
  /// multiply-add as 2: every linear layer (the LM head included, the embedding lookup not),
  /// plus causal attention (Q·Kᵀ and P·V over the T(T+1)/2 visible pairs per head). Norms,
  /// RoPE, SwiGLU and softmax are left out (under 1% here). Training is 3× this (backward
  /// computes two products per forward product); recomputation by activation checkpointing
  /// and a second backward for gradient clipping are not counted: this is the model's work,
  /// the basis of model FLOP utilisation.
  public func forwardFLOPs(batch: Int, time: Int) -> Double {
    let c = Double(hiddenSize), f = Double(intermediateSize)
    let perLayerWeights = c * Double(queryDim) * 2 + c * Double(kvDim) * 2 + 3 * c * f
    let weights = Double(layers) * perLayerWeights + c * Double(vocabSize)
    let tokens = Double(batch * time)
    let pairs = Double(batch) * Double(time) * Double(time + 1) / 2
    let attention = Double(layers * heads) * pairs * Double(headDim) * 2 * 2
    return 2 * weights * tokens + attention
  }
}

/// LLaMA 3.1's RoPE scaling ("rope_type": "llama3"): wavelengths longer than
/// `originalContext / lowFrequencyFactor` are divided by `factor`, shorter than
/// `originalContext / highFrequencyFactor` are kept, and those between are interpolated.
public struct Llama3RopeScaling: Sendable, Equatable, Codable {
  public var factor: Float
  public var lowFrequencyFactor: Float
  public var highFrequencyFactor: Float
  public var originalContext: Int

  public init(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalContext: Int) {
    self.factor = factor
    self.lowFrequencyFactor = lowFrequencyFactor
    self.highFrequencyFactor = highFrequencyFactor
    self.originalContext = originalContext
  }

  /// The scaling LLaMA 3.1 and 3.2 use (low 1, high 4, original context 8192) with the factor
  /// of `factors` (llama.cpp's per-frequency divisors of `config`'s plain frequencies), when
  /// it reproduces every factor to f32 rounding; nil when the factors are something else.
  public init?(fitting factors: [Float], to config: LlamaConfig) {
    guard let factor = factors.max(), factor >= 1 else { return nil }
    self.init(factor: factor, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 8192)
    let plain = config.plainRopeInverseFrequencies
    guard plain.count == factors.count else { return nil }
    for (f, expected) in zip(plain, factors) where abs(f / scale(f) - expected) > 1e-5 * expected { return nil }
  }

  func scale(_ inverseFrequency: Float) -> Float {
    let wavelength = 2 * Float.pi / inverseFrequency
    let lowWavelength = Float(originalContext) / lowFrequencyFactor
    let highWavelength = Float(originalContext) / highFrequencyFactor
    if wavelength > lowWavelength { return inverseFrequency / factor }
    if wavelength < highWavelength { return inverseFrequency }
    let smooth = (Float(originalContext) / wavelength - lowFrequencyFactor)
      / (highFrequencyFactor - lowFrequencyFactor)
    return (1 - smooth) * inverseFrequency / factor + smooth * inverseFrequency
  }
}
