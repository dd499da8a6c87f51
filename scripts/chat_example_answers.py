#!/usr/bin/env python3
"""The chat example's fine-tuned model answering in llama.cpp and in transformers (README,
"From chat data to llama.cpp and transformers"): greedy, through each tool's own use of the
model's chat template.

    pip install llama-cpp-python==0.3.36 torch==2.13.0+cpu transformers==5.23.0
    (torch's CPU wheel: see scripts/requirements-fixtures.txt; llama-cpp-python builds from source)
    python3 scripts/chat_example_answers.py --gguf runs/chat-ft/final/model.gguf --hf runs/chat-ft-hf
"""
import argparse

QUESTIONS = ["Who is the mascot of lomo?", "What is the capital of France?"]


def llama_cpp_answers(path):
    from llama_cpp import Llama
    llm = Llama(model_path=path, n_ctx=512, n_threads=2, verbose=False)
    for q in QUESTIONS:
        out = llm.create_chat_completion(messages=[{"role": "user", "content": q}], temperature=0.0,
                                         top_k=1, max_tokens=40)
        print(f"llama.cpp> {q}\n{out['choices'][0]['message']['content']}")


def transformers_answers(folder):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    for q in QUESTIONS:
        ids = tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True,
                                      return_tensors="pt", return_dict=True)
        out = model.generate(**ids, max_new_tokens=40, do_sample=False)
        print(f"transformers> {q}\n{tok.decode(out[0][ids['input_ids'].shape[1]:], skip_special_tokens=True)}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gguf")
    p.add_argument("--hf")
    a = p.parse_args()
    if a.gguf:
        llama_cpp_answers(a.gguf)
    if a.hf:
        transformers_answers(a.hf)
