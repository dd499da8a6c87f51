import ArgumentParser
import LomoCore

/// The long option names a command declares and whether each is a flag or takes a value, read
/// from ArgumentParser's own description of the command (`_dumpHelp()`, the JSON behind
/// `--experimental-dump-help`), so that config files follow the declarations.
struct CommandDeclarations {
  enum Kind { case option, flag }

  /// Long name (without dashes) -> kind, for every named argument of the command.
  let kinds: [String: Kind]

  init(_ command: ParsableCommand.Type) {
    var kinds: [String: Kind] = [:]
    // The description is ArgumentParser's own output: a document it cannot parse would be a
    // bug there, and leaves no option known (every config key is then refused by name).
    let arguments = (try? JSONField(JSONValue(parsing: Array(command._dumpHelp().utf8)))["command"]["arguments"].array()) ?? []
    for argument in arguments {
      let kind: Kind
      switch try? argument["kind"].string() {
      case "option": kind = .option
      case "flag": kind = .flag
      default: continue
      }
      for name in (try? argument["names"].array()) ?? [] where (try? name["kind"].string()) == "long" {
        if let n = try? name["name"].string() { kinds[n] = kind }
      }
    }
    self.kinds = kinds
  }
}
