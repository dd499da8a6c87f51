import Foundation
import LomoCore
import LomoModel
import LomoTrain

/// Synthetic token data and training options for `TestModels.tinyLlama` (2 layers, C=64, V=256).
enum TinyModel {
  /// Sequences following t' = (5t + 3) mod 256 from seeded starts, lengths 6...20: a rule the
  /// model can learn, with the first two positions untrained (a "prompt").
  static func examples(count: Int, seed: UInt64 = 7) -> [TokenizedExample] {
    var rng = Xoshiro256(seed: seed)
    return (0..<count).map { _ in
      let length = 6 + Int(rng.next() % 15)
      var seq: [Int32] = [Int32(rng.next() % 256)]
      while seq.count <= length { seq.append((seq.last! * 5 + 3) % 256) }
      let prompt = Array(seq.prefix(3)), completion = Array(seq.dropFirst(3))
      return TokenizedExample(prompt: prompt, completion: completion)
    }
  }

  static func options(_ optimizer: OptimizerKind = .lomo, dtype: DType = .f32, steps: Int = 6,
                      batchSize: Int = 4, lr: Float = 0.05) -> TrainingOptions {
    var o = TrainingOptions()
    o.optimizer = optimizer
    o.dtype = dtype
    o.length = .maxSteps(steps)
    o.batchSize = batchSize
    o.learningRate = lr
    o.schedule = .linear
    o.warmup = .steps(1)
    o.seed = 11
    return o
  }
}
