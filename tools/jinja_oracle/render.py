#!/usr/bin/env python3
"""Renders chat-template cases with Jinja2 set up as transformers sets it up: the oracle of the
template interpreter's tests (dev.tokenselect.engine.template).

  python3 tools/jinja_oracle/render.py cases.json rendered.json
  python3 tools/jinja_oracle/render.py --chat chat_cases.json rendered.json
  python3 tools/jinja_oracle/render.py --verify engine/src/test/resources/fixtures/chat_template/qwen3.json

cases.json: [{"name": ..., "template": "...", "context": {...}}, ...]; each output case gains "ok"
(the rendered text) or "error" (the exception's type and message).

--chat renders conversations the way transformers' apply_chat_template(messages, tools=...,
add_generation_prompt=..., tokenize=False, **extra) does, from a model's real files:
chat_cases.json: {"models": {NAME: {"tokenizer_config": PATH, "chat_template_file": PATH (optional,
replaces the config's template, as a chat_template.jinja does)}}, "cases": [{"name", "model",
"messages", "tools", "add_generation_prompt", "extra"}, ...]} (paths relative to the repository);
each output case gains "text" or "error". --verify re-renders a fixture that transformers itself
wrote (make_reference_fixtures.py) and reports every case that differs: the check that --chat is
faithful. Needs jinja2 (3.1.x).
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class AssistantTracker(Extension):
    """transformers' {% generation %} block: renders its body unchanged."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


# A fixed clock, so that templates printing today's date render the same everywhere (the tests fix ours too).
FIXED_NOW = datetime.datetime(2024, 3, 5, 14, 7, 9)


def strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


ENV = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
ENV.filters["tojson"] = tojson
ENV.globals["raise_exception"] = raise_exception
ENV.globals["strftime_now"] = strftime_now


def render(template, context):
    try:
        return {"ok": ENV.from_string(template).render(**context)}
    except Exception as e:  # the tests expect the same failures, message included
        return {"error": type(e).__name__ + ": " + str(e)}


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The special tokens transformers passes to chat templates (special_tokens_map), when the config sets them.
SPECIAL_TOKEN_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                      "mask_token", "additional_special_tokens")


def token_content(value):
    if isinstance(value, dict):
        return value.get("content")
    if isinstance(value, list):
        return [token_content(v) for v in value]
    return value


def load_model(spec):
    with open(os.path.join(REPO, spec["tokenizer_config"]), encoding="utf-8") as f:
        config = json.load(f)
    templates = config.get("chat_template")
    if spec.get("chat_template_file"):
        with open(os.path.join(REPO, spec["chat_template_file"]), encoding="utf-8") as f:
            templates = f.read()
    if isinstance(templates, list):
        templates = {t["name"]: t["template"] for t in templates}
    elif templates is not None:
        templates = {"default": templates}
    special = {}
    for key in SPECIAL_TOKEN_KEYS:
        value = token_content(config.get(key))
        if value is not None:
            special[key] = value
    return templates, special


def render_chat(templates, special, case):
    tools = case.get("tools")
    # Like transformers: a "tool_use" template, where there is one, renders requests with tools.
    source = templates.get("tool_use") if tools is not None and "tool_use" in templates else templates["default"]
    context = {**special, **case.get("extra", {})}
    try:
        return {"text": ENV.from_string(source).render(
            messages=case["messages"], tools=tools, documents=None,
            add_generation_prompt=case.get("add_generation_prompt", True), **context)}
    except Exception as e:
        return {"error": type(e).__name__ + ": " + str(e)}


def main_chat(src, dst):
    with open(src, encoding="utf-8") as f:
        spec = json.load(f)
    models = {name: load_model(m) for name, m in spec["models"].items()}
    out = {"jinja2_version": jinja2.__version__, "models": spec["models"], "cases": []}
    for case in spec["cases"]:
        templates, special = models[case["model"]]
        out["cases"].append({**case, **render_chat(templates, special, case)})
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main_verify(fixture):
    model = os.path.splitext(os.path.basename(fixture))[0]
    templates, special = load_model({"tokenizer_config": "engine/src/test/resources/tokenizers/%s/tokenizer_config.json"
                                                         % model})
    with open(fixture, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    bad = [c["name"] for c in cases if render_chat(templates, special, c).get("text") != c["text"]]
    print("%s: %d of %d cases render as transformers did%s" % (model, len(cases) - len(bad), len(cases),
                                                               "; differ: " + ", ".join(bad) if bad else ""))
    return not bad


def main(src, dst):
    with open(src, encoding="utf-8") as f:
        cases = json.load(f)
    out = [{**c, **render(c["template"], c.get("context", {}))} for c in cases]
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    if sys.argv[1] == "--chat":
        main_chat(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--verify":
        sys.exit(0 if all([main_verify(path) for path in sys.argv[2:]]) else 1)
    else:
        main(sys.argv[1], sys.argv[2])
