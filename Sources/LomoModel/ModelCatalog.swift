/// Architectures known by name, for random-initialised benchmarks (`lomo bench --model NAME`)
/// and memory estimates without a checkpoint. The hyperparameters are those of the published
/// configs (`config.json` of each model); `bench/torch_reference.py` names the LLaMA ones it
/// benchmarks the same way.
public enum ModelCatalog {
  /// Name → architecture, smallest first.
  public static let entries: [(name: String, config: LlamaConfig)] = [
    ("smollm2-135m", LlamaConfig(
      layers: 30, hiddenSize: 576, intermediateSize: 1536, heads: 9, kvHeads: 3,
      vocabSize: 49152, ropeTheta: 100_000, rmsEps: 1e-5, tiedEmbeddings: true, maxContext: 8192)),
    ("smollm2-360m", LlamaConfig(
      layers: 32, hiddenSize: 960, intermediateSize: 2560, heads: 15, kvHeads: 5,
      vocabSize: 49152, ropeTheta: 100_000, rmsEps: 1e-5, tiedEmbeddings: true, maxContext: 8192)),
    ("qwen2.5-0.5b", LlamaConfig(
      family: .qwen2, layers: 24, hiddenSize: 896, intermediateSize: 4864, heads: 14, kvHeads: 2,
      vocabSize: 151_936, ropeTheta: 1_000_000, rmsEps: 1e-6, tiedEmbeddings: true, maxContext: 32768)),
    ("qwen3-0.6b", LlamaConfig(
      family: .qwen3, layers: 28, hiddenSize: 1024, intermediateSize: 3072, heads: 16, kvHeads: 8, headDim: 128,
      vocabSize: 151_936, ropeTheta: 1_000_000, rmsEps: 1e-6, tiedEmbeddings: true, maxContext: 40960)),
    ("tinyllama-1.1b", LlamaConfig(
      layers: 22, hiddenSize: 2048, intermediateSize: 5632, heads: 32, kvHeads: 4,
      vocabSize: 32000, ropeTheta: 10_000, rmsEps: 1e-5, tiedEmbeddings: false, maxContext: 2048)),
    ("llama-3.2-1b", LlamaConfig(
      layers: 16, hiddenSize: 2048, intermediateSize: 8192, heads: 32, kvHeads: 8,
      vocabSize: 128_256, ropeTheta: 500_000, rmsEps: 1e-5, tiedEmbeddings: true, maxContext: 131_072,
      ropeScaling: Llama3RopeScaling(factor: 32, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 8192))),
    ("llama-7b", LlamaConfig(
      layers: 32, hiddenSize: 4096, intermediateSize: 11008, heads: 32, kvHeads: 32,
      vocabSize: 32000, ropeTheta: 10_000, rmsEps: 1e-6, tiedEmbeddings: false, maxContext: 2048)),
    ("llama-13b", LlamaConfig(
      layers: 40, hiddenSize: 5120, intermediateSize: 13824, heads: 40, kvHeads: 40,
      vocabSize: 32000, ropeTheta: 10_000, rmsEps: 1e-6, tiedEmbeddings: false, maxContext: 2048)),
    ("llama-30b", LlamaConfig(
      layers: 60, hiddenSize: 6656, intermediateSize: 17920, heads: 52, kvHeads: 52,
      vocabSize: 32000, ropeTheta: 10_000, rmsEps: 1e-6, tiedEmbeddings: false, maxContext: 2048)),
    ("llama-65b", LlamaConfig(
      layers: 80, hiddenSize: 8192, intermediateSize: 22016, heads: 64, kvHeads: 64,
      vocabSize: 32000, ropeTheta: 10_000, rmsEps: 1e-5, tiedEmbeddings: false, maxContext: 2048)),
  ]

  public static var names: [String] { entries.map(\.name) }

  /// The architecture called `name`, or nil.
  public static func config(named name: String) -> LlamaConfig? {
    entries.first { $0.name == name.lowercased() }?.config
  }
}
