#!/usr/bin/env bash
# Generation speed: `lomo generate` against llama.cpp (llama-cpp-python) on the same model,
# greedy, the same threads: N new tokens after a prompt of about 200 tokens.
#
#   bash bench/generation.sh                 # 200 new tokens, 2 threads, f32 and bf16
#   NEW=100 THREADS=1 TYPES=f32 bash bench/generation.sh
#   LOMO=/path/to/other/lomo bash bench/generation.sh   # e.g. an older build
#
# Needs the default model (scripts/setup.sh) and `pip install llama-cpp-python` (0.3.36 was
# measured; it compiles llama.cpp). The model is converted by `lomo convert` to a GGUF of
# each type in $WORK, and both tools read that file. lomo's figure is what `lomo generate`
# prints on stderr (prompt and generation, model loading excluded), llama.cpp's the same span.
set -euo pipefail
cd "$(dirname "$0")/.."
LOMO=${LOMO:-.build/release/lomo}
NEW=${NEW:-200}
THREADS=${THREADS:-2}
TYPES=${TYPES:-f32 bf16}
WORK=${WORK:-$(mktemp -d)}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# About 200 tokens of plain English (SmolLM2's tokenizer: 1.3 tokens per word or so).
prompt="$WORK/prompt.txt"
: > "$prompt"
for i in 1 2 3 4 5 6 7; do
  printf 'The lighthouse keeper climbed the stairs at dusk, lit the lamp, wound the clockwork and wrote the weather in the log book before the ships came in. ' >> "$prompt"
done
printf 'One night the lamp went out, and' >> "$prompt"
echo "lomo: $LOMO ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)); $(lscpu | sed -n 's/^Model name: *//p'); $THREADS threads; $NEW new tokens"
for type in $TYPES; do
  gguf="$WORK/smollm2-135m-$type.gguf"
  [ -f "$gguf" ] || "$LOMO" convert --output "$gguf" --type "$type" > /dev/null
  speed=$("$LOMO" generate --model "$gguf" --dtype "$type" --prompt "$(cat "$prompt")" --max-new-tokens "$NEW" \
    --threads "$THREADS" 2>&1 >/dev/null | grep 'tokens/s' | tail -1)
  prompt_tokens=$("$LOMO" tokenize --model "$gguf" --json --text "$(cat "$prompt")" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  echo "lomo $type: prompt $prompt_tokens tokens; $speed"
  echo "llama.cpp $type: $(python3 bench/llamacpp_generate.py "$gguf" "$prompt" "$NEW" "$THREADS" 2>/dev/null)"
done
