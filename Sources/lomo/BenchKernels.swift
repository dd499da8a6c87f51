import ArgumentParser
struct BenchKernels: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "bench-kernels")
  func run() throws {}
}
