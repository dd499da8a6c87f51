import LomoCLI

// Sets the OpenMP environment (which may re-execute the process), then runs the command.
OpenMPEnvironment.ensurePassiveWaiting()
Lomo.run(Array(CommandLine.arguments.dropFirst()))
