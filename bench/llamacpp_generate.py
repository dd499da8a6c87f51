"""Greedy generation with llama.cpp (llama-cpp-python) for bench/generation.sh.

Prints "prompt P tokens; N tokens in S s, X tokens/s" (prompt and generation, model
loading excluded); the text goes to stderr.
Usage: python3 bench/llamacpp_generate.py MODEL.gguf PROMPT_FILE NEW_TOKENS THREADS
"""
import json
import sys
import time

from llama_cpp import Llama


def main():
    path, prompt_file, new_tokens, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    prompt = open(prompt_file, encoding="utf-8").read()
    llm = Llama(model_path=path, n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
    ids = llm.tokenize(prompt.encode("utf-8"), add_bos=False)
    start = time.perf_counter()
    out = llm.create_completion(prompt, max_tokens=new_tokens, temperature=0.0, top_k=1)
    seconds = time.perf_counter() - start
    generated = out["usage"]["completion_tokens"]
    print(f"prompt {len(ids)} tokens; {generated} tokens in {seconds:.2f} s, {generated / seconds:.1f} tokens/s")
    print(json.dumps(out["choices"][0]["text"]), file=sys.stderr)


if __name__ == "__main__":
    main()
