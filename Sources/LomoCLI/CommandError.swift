/// A failure of a running command, described for the user.
///
/// lomo's one convention for errors: a problem with the options is found by a command's (or an
/// option group's) `validate()` and thrown as ArgumentParser's `ValidationError`, which prints
/// the message with the usage and exits with status 64. Whatever fails once the command runs
/// (a file, a model, the data, a write) is thrown: the library's typed error, or a
/// `CommandError` where the CLI itself finds the problem; `Error: <description>` goes to
/// stderr and the status is 1. An interrupted training run exits with 130 after saving its
/// checkpoint.
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}
