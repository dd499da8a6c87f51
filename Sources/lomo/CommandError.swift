/// A failure of a command, described for the user (the argument parser prints the description).
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}
