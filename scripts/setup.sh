#!/usr/bin/env bash
# Installs what lomo needs to build on a fresh Debian machine: oneDNN (libdnnl-dev).
# Idempotent: does nothing when it is already installed.
set -euo pipefail

if [ ! -f /usr/include/oneapi/dnnl/dnnl.h ]; then
  echo "lomo setup: installing oneDNN (libdnnl-dev) from Debian..." >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libdnnl-dev >/dev/null
fi

bash "$(dirname "$0")/fetch-default-model.sh"
bash "$(dirname "$0")/fetch-gemma-vocab.sh"
