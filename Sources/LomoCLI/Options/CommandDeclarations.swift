import ArgumentParser
import Foundation

/// The long option names a command declares and whether each is a flag or takes a value, read
/// from ArgumentParser's own description of the command (`_dumpHelp()`, the JSON behind
/// `--experimental-dump-help`), so that config files follow the declarations.
struct CommandDeclarations {
  enum Kind { case option, flag }

  /// Long name (without dashes) -> kind, for every named argument of the command.
  let kinds: [String: Kind]

  init(_ command: ParsableCommand.Type) {
    var kinds: [String: Kind] = [:]
    let dump = Data(command._dumpHelp().utf8)
    let root = (try? JSONSerialization.jsonObject(with: dump)) as? [String: Any]
    let info = root?["command"] as? [String: Any]
    for argument in info?["arguments"] as? [[String: Any]] ?? [] {
      let kind: Kind
      switch argument["kind"] as? String {
      case "option": kind = .option
      case "flag": kind = .flag
      default: continue
      }
      for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
        if let n = name["name"] as? String { kinds[n] = kind }
      }
    }
    self.kinds = kinds
  }
}
