#!/usr/bin/env python3
"""Golden renderings of real chat templates, for LomoTokenizer's Jinja interpreter.

Pinned: transformers==5.23.0 jinja2==3.1.6 (Python 3.11); no torch needed:
    pip install transformers==5.23.0 jinja2==3.1.6
    python3 scripts/make_chat_template_fixtures.py

Reads (committed, format data) Tests/LomoTokenizerTests/Fixtures/chat_templates/*.jinja, the
chat templates of the families lomo loads, and writes
Tests/LomoTokenizerTests/Fixtures/chat_template_cases.json: each template rendered over a set of
conversations, with and without the generation prompt, by transformers' own renderer
(`transformers.utils.chat_template_utils.render_jinja_template`, which `apply_chat_template`
calls: trim_blocks, lstrip_blocks, loop controls, its tojson/raise_exception/strftime_now), with
`strftime_now` reading a fixed local time. A rendering that raises records the error message.
Also writes Tests/LomoTokenizerTests/Fixtures/jinja_cases.json: small templates, one Jinja
construct each, rendered by the same environment.

Where the templates come from (no model hub is reachable here):
  smollm2             tokenizer.chat_template of SmolLM2-135M-Instruct.Q4_1.gguf (scripts/fetch-default-model.sh)
  qwen2.5, qwen3, llama3.1, llama3.2, mistral-nemo
                      llama.cpp models/templates/{Qwen-Qwen2.5-7B-Instruct, Qwen-Qwen3-0.6B,
                      meta-llama-Llama-3.1-8B-Instruct, meta-llama-Llama-3.2-3B-Instruct,
                      mistralai-Mistral-Nemo-Instruct-2407}.jinja (fetched from the hub by its
                      scripts/get_chat_template.py)
  mistral-v3          llama.cpp tests/test-chat-template.cpp, "Mistral-Large-Instruct-2407" (the v3 template)
  llama2, llama3, tinyllama, mistral-v1, gemma3
                      the chat_template strings of Llama-2-7b-chat-hf, Meta-Llama-3-8B-Instruct,
                      TinyLlama-1.1B-Chat-v1.0, Mistral-7B-Instruct-v0.1 and gemma-3-*-it, as quoted
                      identically by several public projects
"""
import json
from datetime import datetime
from pathlib import Path

import jinja2
import transformers
import transformers.utils.chat_template_utils as ctu

assert transformers.__version__ == "5.23.0", transformers.__version__
assert jinja2.__version__ == "3.1.6", jinja2.__version__

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "Tests/LomoTokenizerTests/Fixtures"
NOW = datetime(2026, 3, 5, 14, 7, 9)  # what strftime_now sees; the Swift test injects the same local time


class FixedClock(datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


ctu.datetime = FixedClock

TOKENS = {  # bos_token, eos_token as each family's tokenizer has them
    "smollm2": ("<|im_start|>", "<|im_end|>"),
    "llama2": ("<s>", "</s>"), "tinyllama": ("<s>", "</s>"), "mistral-v1": ("<s>", "</s>"),
    "mistral-v3": ("<s>", "</s>"), "mistral-nemo": ("<s>", "</s>"),
    "llama3": ("<|begin_of_text|>", "<|end_of_text|>"), "llama3.1": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama3.2": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen2.5": ("", "<|im_end|>"), "qwen3": ("", "<|im_end|>"),
    "gemma3": ("<bos>", "<eos>"),
}


def m(role, content):
    return {"role": role, "content": content}


CONVERSATIONS = [
    [m("user", "Hello!")],
    [m("system", "Be brief."), m("user", "What is 2+2?")],
    [m("user", "Hi"), m("assistant", "Hello! How can I help?"), m("user", "What is 2+2?")],
    [m("system", "You are terse."), m("user", "Name a colour."), m("assistant", "Blue."),
     m("user", "Another?"), m("assistant", "Red.")],
    [m("user", "Multi\nline\n\ncontent 🤗 — é ß 日本語 \"quoted\" 'single' \\ back"), m("assistant", "ok ✓")],
    [m("user", "  padded  \n"), m("assistant", "\n  answer with spaces \t")],
    [m("user", "Think first."), m("assistant", "<think>\nsome reasoning\n</think>\n\nThe answer.")],
    [m("user", "one"), m("user", "two")],
    [m("assistant", "I start.")],
]


# Small templates, one construct each, rendered by the same environment: (name, template, context).
CONSTRUCTS = [
    ("text", "plain text", {}),
    ("output", "a{{ x }}b", {"x": "X"}),
    ("undefined renders empty", "[{{ missing }}]", {}),
    ("none and bools", "{{ none }} {{ true }} {{ false }} {{ True }}", {}),
    ("numbers", "{{ 1 + 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 * 3 - 1 }} {{ -4 }} {{ 1.5 + 1 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1e-5 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 100.0 }}", {}),
    ("string escapes", "{{ 'a\\nb\\t\\\"c\\\"' }}|{{ \"it's\" }}|{{ 'x' 'y' }}|{{ '\\u00e9\\x41' }}", {}),
    ("comment", "a{# gone #}b", {}),
    ("trim_blocks", "{% if true %}\nx\n{% endif %}\ny", {}),
    ("lstrip_blocks", "a\n    {% if true %}\n    b\n    {% endif %}\nc", {}),
    ("lstrip keeps text before a tag", "a  {% if true %}b{% endif %}", {}),
    ("lstrip_blocks plus sign", "a\n    {%+ if true %}b{% endif %}", {}),
    ("trim_blocks plus sign", "{% if true +%}\nb{% endif %}", {}),
    ("comment trims", "a\n  {# c #}\nb", {}),
    ("minus trims", "a   {{- 'b' -}}   c  {%- if true -%}  d  {%- endif %}\n\n e {#- x -#}  f", {}),
    ("output keeps newline", "{{ 'a' }}\n{{ 'b' }}\n", {}),
    ("trailing newline dropped once", "x\n\n", {}),
    ("crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("if elif else", "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %},{% endfor %}", {}),
    ("for loop variables", "{% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('o', 'e') }};{% endfor %}", {"items": ["a", "b", "c"]}),
    ("for else", "{% for x in [] %}x{% else %}empty{% endfor %}{% for x in missing %}y{% else %}none{% endfor %}", {}),
    ("for filter", "{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{{ loop.length }}{% endfor %}", {}),
    ("break continue", "{% for n in [1, 2, 3, 4] %}{% if n == 2 %}{% continue %}{% endif %}{% if n == 4 %}{% break %}{% endif %}{{ n }}{% endfor %}", {}),
    ("set and scope", "{% set a = 1 %}{% for x in [1] %}{% set a = 2 %}{{ a }}{% endfor %}{{ a }}{% if true %}{% set b = 3 %}{% endif %}{{ b }}", {}),
    ("namespace", "{% set ns = namespace(found=false, n=0) %}{% for x in [1, 2] %}{% set ns.found = true %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.found }} {{ ns.n }}", {}),
    ("set block", "{% set x %}a{{ 1 + 1 }}b{% endset %}[{{ x }}]", {}),
    ("tuple set and unpack", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% for k, v in [[1, 2], [3, 4]] %}{{ k * v }}{% endfor %}", {}),
    ("dict iteration", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}{{ d.keys() | list }}{{ d.values() | list }}", {"d": {"x": 1, "y": "z"}}),
    ("comparisons", "{{ 1 < 2 }}{{ 2 <= 1 }}{{ 'a' == 'a' }}{{ 'a' != 'a' }}{{ 3 > 2 }}{{ 1 >= 1 }}{{ 1 == 1.0 }}{{ 'a' < 'b' }}{{ [1, 2] == [1, 2] }}", {}),
    ("logic", "{{ true and false }}{{ true or false }}{{ not true }}{{ not (1 == 2) }}{{ 0 or 'x' }}{{ '' and 'y' }}{{ 'a' and 'b' }}", {}),
    ("in", "{{ 'b' in 'abc' }}{{ 2 in [1, 2] }}{{ 'k' in d }}{{ 'q' not in d }}{{ 'x' in missing }}", {"d": {"k": 1}}),
    ("tests", "{{ x is defined }}{{ y is defined }}{{ y is not defined }}{{ y is undefined }}{{ n is none }}{{ s is string }}{{ 1 is number }}{{ 1 is integer }}{{ 1.5 is float }}{{ d is mapping }}{{ s is iterable }}{{ 1 is iterable }}{{ xs is sequence }}{{ f is false }}{{ t is true }}{{ t is boolean }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ 1 is equalto 1 }}{{ 2 is eq(3) }}{{ 'a' is in 'abc' }}{{ n is sameas none }}", {"x": 1, "n": None, "s": "s", "d": {}, "xs": [1], "f": False, "t": True}),
    ("conditional expression", "{{ 'yes' if flag else 'no' }}[{{ 'a' if false }}]{{ 'p' if false else 'q' if true else 'r' }}", {"flag": True}),
    ("concat operator", "{{ 'n=' ~ 3 ~ true ~ none ~ missing }}", {}),
    ("subscript and slices", "{{ xs[0] }}{{ xs[-1] }}{{ xs[1:] }}{{ xs[:2] }}{{ xs[::-1] }}{{ xs[::2] }}{{ xs[-2:] }}{{ 'hello'[1:3] }}{{ 'hello'[::-1] }}{{ d['k'] }}{{ d.k }}{{ xs.0 }}[{{ xs[9] }}]", {"xs": [1, 2, 3], "d": {"k": "v"}}),
    ("literals and repr", "{{ [1, 'a', none, true, 1.5] }}{{ {'k': 1, 'q': 'it\\'s'} }}{{ (1,) }}{{ (1, 2) }}{{ {'k': 1}['k'] }}{{ [] }}", {}),
    ("filters", "{{ '  x  ' | trim }}|{{ xs | length }}|{{ 'Ab' | upper }}{{ 'Ab' | lower }}|{{ xs | join('-') }}|{{ xs | first }}{{ xs | last }}|{{ missing | default('d') }}{{ '' | default('e', true) }}{{ 0 | d('z') }}|{{ 5 | string }}|{{ 'hello world' | capitalize }}|{{ 'hello wORLD-x (y' | title }}|{{ 'aXbXc' | replace('X', '-') }}|{{ 'abc' | list }}|{{ d | items | list }}|{{ '42' | int + 1 }}{{ 'x' | int }}{{ '2.5' | float }}|{{ -3 | abs }}|{{ xs | reverse | list }}{{ 'abc' | reverse }}|{{ missing | length }}|{{ 'xyx' | trim('x') }}", {"xs": [1, 2, 3], "d": {"a": 1}}),
    ("filter binds tighter than plus", "{{ 'a' + ' b ' | trim + 'c' }}{{ xs | length - 1 }}{{ -1 | abs }}", {"xs": [1, 2, 3]}),
    ("select and map", "{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }}|{{ ms | rejectattr('role', 'equalto', 'user') | list | length }}|{{ [1, 2, 3, 4] | select('odd') | list }}|{{ [0, 1, '', 'a'] | select | list }}|{{ [1, 2] | reject('even') | list }}|{{ ['a', 'b'] | map('upper') | join }}|{{ ms | map(attribute='x', default='-') | join }}", {"ms": [{"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"}]}),
    ("string methods", "{{ ' x '.strip() }}{{ 'xxaxx'.strip('x') }}{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('x') }}{{ 'abc'.startswith(('x', 'a')) }}{{ 'ab'.upper() }}{{ 'hello world'.title() }}{{ ' x '.lstrip() }}|{{ ' x '.rstrip() }}|{{ 'a,b,,c'.split(',') }}{{ ' a  b '.split() }}{{ 'a b c'.split(' ', 1) }}{{ 'aaa'.replace('a', 'b', 2) }}{{ 'abcabc'.find('c') }}{{ 'abcabc'.count('bc') }}{{ '-'.join(['x', 'y']) }}{{ 'hELLO'.capitalize() }}{{ \"don't stop\".title() }}", {}),
    ("dict get", "{{ d.get('k') }}{{ d.get('q', 'dflt') }}{{ d.get('q') }}{{ d['items'] }}{{ d.items | length if false else 'm' }}", {"d": {"k": "v", "items": "I"}}),
    ("tojson", "{{ {'a': [1, 'x', none, true, 1.5], 'b': {}} | tojson }}|{{ 'é\\n\"' | tojson }}|{{ [1, {'k': 'v'}] | tojson(indent=2) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ [] | tojson(indent=2) }}", {}),
    ("range", "{% for i in range(3) %}{{ i }}{% endfor %}{{ range(1, 10, 3) | list }}{{ range(5, 0, -2) | list }}{{ range(0) | list }}", {}),
    ("generation tag", "a{% generation %}b{{ 1 }}{% endgeneration %}c", {}),
    ("strftime_now", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %-d %p %y %e %I %a') }}", {}),
    ("raise_exception", "before{{ raise_exception('Conversation roles must alternate') }}", {}),
    ("unicode", "{{ s | length }}{{ s[1] }}{{ s | upper }}{{ s[::-1] }}", {"s": "é🤗日"}),
]


def main():
    cases = []
    templates = sorted(p.stem for p in (FIX / "chat_templates").glob("*.jinja"))
    assert set(templates) == set(TOKENS), (templates, sorted(TOKENS))
    for name in templates:
        text = (FIX / "chat_templates" / f"{name}.jinja").read_text(encoding="utf-8")
        bos, eos = TOKENS[name]
        for conv in CONVERSATIONS:
            for gen in (False, True):
                case = {"template": name, "messages": conv, "add_generation_prompt": gen}
                try:
                    rendered, _ = ctu.render_jinja_template(
                        conversations=[conv], chat_template=text, add_generation_prompt=gen,
                        bos_token=bos, eos_token=eos)
                    case["rendered"] = rendered[0]
                except jinja2.exceptions.TemplateError as e:
                    case["error"] = str(e)
                cases.append(case)
    constructs = []
    for name, template, context in CONSTRUCTS:
        case = {"name": name, "template": template, "context": context}
        try:
            case["output"] = ctu._compile_jinja_template(template).render(**context)
        except jinja2.exceptions.TemplateError as e:
            case["error"] = str(e)
        constructs.append(case)
    (FIX / "jinja_cases.json").write_text(json.dumps({"cases": constructs}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    out = {"now": NOW.isoformat(), "tokens": {k: list(v) for k, v in TOKENS.items()}, "cases": cases}
    (FIX / "chat_template_cases.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(len(cases), "cases,", sum("error" in c for c in cases), "of them errors")


if __name__ == "__main__":
    main()
