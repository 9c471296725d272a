#!/usr/bin/env python3
"""Renders chat-template cases with Jinja2 set up as transformers sets it up: the oracle of the
template interpreter's tests (dev.tokenselect.engine.template).

  python3 tools/jinja_oracle/render.py cases.json rendered.json

cases.json: [{"name": ..., "template": "...", "context": {...}}, ...]; each output case gains "ok"
(the rendered text) or "error" (the exception's type and message). Needs jinja2 (3.1.x).
"""
import datetime
import json
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


def main(src, dst):
    with open(src, encoding="utf-8") as f:
        cases = json.load(f)
    out = [{**c, **render(c["template"], c.get("context", {}))} for c in cases]
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
