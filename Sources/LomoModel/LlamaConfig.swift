/// The hyperparameters of a LLaMA-architecture decoder (LLaMA 1/2/3, SmolLM2, TinyLlama,
/// Mistral without sliding window). Shape legend used across lomo: B batch, T time,
/// C = `hiddenSize`, H = `heads`, KVH = `kvHeads`, D = `headDim`, F = `intermediateSize`,
/// V = `vocabSize`, L = `layers`.
public struct LlamaConfig: Sendable, Equatable, Codable {
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

  public init(
    layers: Int, hiddenSize: Int, intermediateSize: Int, heads: Int, kvHeads: Int,
    headDim: Int? = nil, vocabSize: Int, ropeTheta: Float = 10_000, rmsEps: Float = 1e-5,
    tiedEmbeddings: Bool, maxContext: Int = 2048
  ) {
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
  }

  /// Width of the query projection output, H·D.
  public var queryDim: Int { heads * headDim }
  /// Width of each of the key and value projection outputs, KVH·D.
  public var kvDim: Int { kvHeads * headDim }

  /// Checks the relations the kernels rely on; returns a description of each violation.
  public var problems: [String] {
    var found: [String] = []
    for (name, value) in [("layers", layers), ("hidden size", hiddenSize),
                          ("intermediate size", intermediateSize), ("heads", heads),
                          ("kv heads", kvHeads), ("head dim", headDim), ("vocab size", vocabSize),
                          ("max context", maxContext)] where value <= 0 {
      found.append("\(name) must be positive, got \(value)")
    }
    if kvHeads > 0 && heads % kvHeads != 0 {
      found.append("heads (\(heads)) must be a multiple of kv heads (\(kvHeads))")
    }
    if headDim % 2 != 0 { found.append("head dim (\(headDim)) must be even for RoPE") }
    if !(ropeTheta > 0) { found.append("rope theta must be positive, got \(ropeTheta)") }
    if !(rmsEps > 0) { found.append("rms eps must be positive, got \(rmsEps)") }
    return found
  }

  /// Number of scalar parameters (the tied LM head counted once).
  public var parameterCount: Int {
    ParameterID.all(for: self).reduce(0) { $0 + $1.shape(in: self).reduce(1, *) }
  }
}
