#!/usr/bin/env bash
# The test command: installs what the build needs, then runs the whole suite in release mode
# (debug builds run the numeric kernels 10-100x slower).
set -euo pipefail
# oneDNN's OpenMP workers must not busy-wait while lomo's own kernels run (see
# Sources/LomoCLI/OpenMPEnvironment.swift); libgomp reads this when it loads.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
