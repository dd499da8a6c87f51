#!/usr/bin/env bash
# Installs what lomo needs to build on a fresh Debian machine: oneDNN (libdnnl-dev) and Open MPI
# (libopenmpi-dev, openmpi-bin: lomo links MPI, and `mpirun` starts multi-process runs).
# Idempotent: does nothing when it is already installed.
set -euo pipefail

# pkg-config: SwiftPM finds Open MPI's headers and library with it.
missing=()
for package in libdnnl-dev libopenmpi-dev openmpi-bin pkg-config; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "lomo setup: installing ${missing[*]} from Debian..." >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash "$(dirname "$0")/fetch-default-model.sh"
bash "$(dirname "$0")/fetch-gemma-vocab.sh"
