import ArgumentParser
import LomoDistributed

/// The `lomo` command: its subcommands, and the entry point that reads config files first.
public struct Lomo: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "lomo",
    abstract: "Full-parameter fine-tuning of LLaMA-family models on one CPU machine, with LOMO.",
    subcommands: [
      Demo.self, Train.self, Eval.self, Generate.self, Chat.self, Tokenize.self, Inspect.self,
      ConvertModel.self, Bench.self, BenchKernels.self, ClusterCheck.self,
    ])

  public init() {}

  /// Runs the command that `arguments` (without the program name) name, then exits: status
  /// 0, or the status of the error (see `CommandError` for the convention). Under mpirun a
  /// failing rank prints its error after its rank and host and ends every rank of the job.
  public static func run(_ arguments: [String]) -> Never {
    do {
      var command = try parse(arguments)
      try command.run()
      Communicator.finalize()
      exit()
    } catch {
      guard Communicator.isRunning else { exit(withError: error) }
      let world = Communicator.world, message = fullMessage(for: error)
      if !message.isEmpty { Diagnostics.note(message, from: "rank \(world.rank) of \(world.size) on \(world.hostName)") }
      Communicator.abort(exitCode(for: error).rawValue)
    }
  }

  /// The subcommand `arguments` name, parsed after `--config FILE` was expanded into the
  /// options it holds (for a subcommand that declares `--config`).
  static func parse(_ arguments: [String]) throws -> ParsableCommand {
    let namesConfig = arguments.contains { $0 == "--config" || $0.hasPrefix("--config=") }
    guard namesConfig, let name = arguments.first,
          let sub = configuration.subcommands.first(where: { $0._commandName == name }),
          CommandDeclarations(sub).kinds["config"] != nil
    else { return try parseAsRoot(arguments) }
    return try parseAsRoot([name] + ConfigFile.expand(Array(arguments.dropFirst()), for: sub))
  }
}
