import ArgumentParser

struct Lomo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lomo",
    abstract: "Full-parameter fine-tuning of LLaMA-family models on one CPU machine, with LOMO.",
    subcommands: [
      Demo.self, Train.self, Eval.self, Generate.self, Tokenize.self, Inspect.self,
      ConvertModel.self, Bench.self, BenchKernels.self,
    ])
}
