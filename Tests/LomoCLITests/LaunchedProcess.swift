import Foundation

/// What a finished process left: its exit status and its output.
struct Outcome {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// The `lomo` built next to this test bundle.
var lomoExecutable: URL {
  URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lomo")
}

/// Reads `stderr` until `marker` has appeared in it: true, or false when the stream ended first.
func read(_ stderr: FileHandle, until marker: String) -> Bool {
  var seen = Data()
  while !String(decoding: seen, as: UTF8.self).contains(marker) {
    let chunk = stderr.availableData
    if chunk.isEmpty { return false }
    seen += chunk
  }
  return true
}

/// Runs `executable arguments` in `directory` with `environment` added to this process's, and
/// waits for it; `whileRunning` may read its stderr and signal it meanwhile. With `input`, its
/// stdin is a pipe that holds `input` and then ends.
func launch(_ executable: URL, _ arguments: [String], in directory: URL,
            environment: [String: String] = [:], input: String? = nil,
            whileRunning: ((Process, FileHandle) -> Void)? = nil) throws -> Outcome {
  let process = Process()
  process.executableURL = executable
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  process.currentDirectoryURL = directory
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  let stdin = input.map { _ in Pipe() }
  if let stdin { process.standardInput = stdin }
  try process.run()
  if let stdin, let input {
    // Small inputs: the pipe's buffer holds them, so writing cannot block.
    try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
    try stdin.fileHandleForWriting.close()
  }
  var stderr = Data()
  if let whileRunning { whileRunning(process, err.fileHandleForReading) }
  // stdout is read on another thread so that neither pipe can fill and block the process.
  nonisolated(unsafe) var stdout = Data()
  let done = DispatchSemaphore(value: 0)
  DispatchQueue.global().async {
    stdout = out.fileHandleForReading.readDataToEndOfFile()
    done.signal()
  }
  stderr += err.fileHandleForReading.readDataToEndOfFile()
  done.wait()
  process.waitUntilExit()
  return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                 stderr: String(decoding: stderr, as: UTF8.self))
}
