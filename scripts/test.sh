#!/usr/bin/env bash
# The test command: installs what the build needs, then runs the whole suite in release mode
# (debug builds run the numeric kernels 10-100x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
