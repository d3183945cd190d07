#!/usr/bin/env python3
"""A local stand-in for two model APIs, for tests/unit/test_llm.c.

  POST /v1/chat/completions   OpenAI Chat Completions (Authorization: Bearer KEY)
  POST /v1/messages           Anthropic Messages (x-api-key, anthropic-version)

Usage: llm_server.py --log FILE --key KEY
Binds 127.0.0.1 on a free port and prints the port as its first stdout line.
Exits when stdin closes, or after 120 s.

Every request is checked field by field against the published format
(method, path, headers, body types, roles and their order, tool shapes, no
unknown top-level fields, max_tokens, stream flags). A request that breaks
the format gets HTTP 400 in the provider's error shape, naming the field.

The scenario is the model name: "text", or "text#anything" (the suffix keys
per-scenario attempt counters and the in-flight count, so each test uses
its own). Scenarios: text cached tools1 tools2 maxtok unicode retry429
retry500 fail500 auth401 malformed truncated slow huge noshape slowok
streamcut streamerr. Each answers whole or as an SSE stream, as asked.

Each request is logged as one JSON line to --log: scenario, model, api,
path, headers (auth values replaced by "<key>"), key_ok, the parsed body,
in_flight (requests of the same model being served, this one included),
attempt (1-based per model) and violation (null or the 400's message).
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
import testserver  # noqa: E402 (tests/testserver.py)

ARGS = None
LOCK = threading.Lock()
ATTEMPTS = {}
IN_FLIGHT = {}
LOG = None

NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

# ---- what each scenario answers (provider-neutral) ----------------------

TEXT = dict(text="Hello from the test server.", calls=[], stop="end",
            usage=dict(input=12, cached=0, created=0, output=7))
ANSWERS = {
    "text": TEXT,
    "cached": dict(text="Cached answer.", calls=[], stop="end",
                   usage=dict(input=1000, cached=800, created=50, output=5)),
    "tools1": dict(text="Let me check.", stop="tool",
                   calls=[("get_weather", {"city": "Paris", "days": 3})],
                   usage=dict(input=40, cached=0, created=0, output=20)),
    "tools2": dict(text=None, stop="tool",
                   calls=[("get_weather", {"city": "Paris"}),
                          ("get_time", {"tz": "Europe/Paris", "format": "24h", "extra": [1, 2.5, None, True]})],
                   usage=dict(input=41, cached=0, created=0, output=30)),
    "maxtok": dict(text="This answer was cut", calls=[], stop="max",
                   usage=dict(input=12, cached=0, created=0, output=4)),
    "unicode": dict(text="Gr\u00fc\u00dfe \u2014 \u6771\u4eac \u2713 \U0001F600", calls=[], stop="end",
                    usage=dict(input=3, cached=0, created=0, output=9)),
}
OPENAI_STOP = {"end": "stop", "tool": "tool_calls", "max": "length"}
ANTHROPIC_STOP = {"end": "end_turn", "tool": "tool_use", "max": "max_tokens"}


def call_id(api, i):
    return ("call_%02d" if api == "openai" else "toolu_%02d") % (i + 1)


def pieces(s, n=4):
    return [s[i:i + n] for i in range(0, len(s), n)] or [""]


# ---- request checks --------------------------------------------------------

class Bad(Exception):
    pass


def need(cond, field, why):
    if not cond:
        raise Bad("%s: %s" % (field, why))


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_keys(obj, allowed, field, required=()):
    need(isinstance(obj, dict), field, "must be an object")
    for k in obj:
        need(k in allowed, field, "unknown field '%s'" % k)
    for k in required:
        need(k in obj, field, "missing field '%s'" % k)


def check_schema(s, field):
    need(isinstance(s, dict), field, "must be a JSON Schema object")
    need(s.get("type") == "object", field + ".type", "must be \"object\"")


def check_common(h, body, path):
    need(h.command == "POST", "method", "must be POST")
    need(h.path == path, "path", "must be " + path)
    ct = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    need(ct == "application/json", "header Content-Type", "must be application/json")
    need(isinstance(body, dict), "body", "must be a JSON object")
    need(isinstance(body.get("model"), str) and body["model"], "model", "must be a non-empty string")
    need(is_int(body.get("max_tokens")) and body["max_tokens"] > 0, "max_tokens",
         "must be a positive integer")
    if "stream" in body:
        need(isinstance(body["stream"], bool), "stream", "must be a boolean")


def check_openai_tool_calls(tcs, field, pending):
    need(isinstance(tcs, list) and tcs, field, "must be a non-empty array")
    for j, tc in enumerate(tcs):
        f = "%s[%d]" % (field, j)
        check_keys(tc, {"id", "type", "function"}, f, ("id", "type", "function"))
        need(isinstance(tc["id"], str) and tc["id"], f + ".id", "must be a non-empty string")
        need(tc["type"] == "function", f + ".type", "must be \"function\"")
        fn = tc["function"]
        check_keys(fn, {"name", "arguments"}, f + ".function", ("name", "arguments"))
        need(isinstance(fn["name"], str) and NAME_RE.match(fn["name"]), f + ".function.name",
             "must match ^[a-zA-Z0-9_-]{1,64}$")
        need(isinstance(fn["arguments"], str), f + ".function.arguments", "must be a string")
        try:
            args = json.loads(fn["arguments"])
        except ValueError:
            args = None
        need(isinstance(args, dict), f + ".function.arguments", "must hold a JSON object")
        pending.append(tc["id"])


def check_openai_messages(msgs):
    need(isinstance(msgs, list) and msgs, "messages", "must be a non-empty array")
    pending = []
    for i, m in enumerate(msgs):
        f = "messages[%d]" % i
        need(isinstance(m, dict), f, "must be an object")
        role = m.get("role")
        if role != "tool":
            need(not pending, f, "tool_calls %s were not answered by tool messages" % pending)
        if role in ("system", "user"):
            need(role != "system" or i == 0, f + ".role", "system must come first")
            check_keys(m, {"role", "content"}, f, ("role", "content"))
            need(isinstance(m["content"], str), f + ".content", "must be a string")
        elif role == "assistant":
            check_keys(m, {"role", "content", "tool_calls"}, f, ("role", "content"))
            need(isinstance(m["content"], str) or (m["content"] is None and "tool_calls" in m),
                 f + ".content", "must be a string, or null with tool_calls")
            if "tool_calls" in m:
                check_openai_tool_calls(m["tool_calls"], f + ".tool_calls", pending)
        elif role == "tool":
            check_keys(m, {"role", "tool_call_id", "content"}, f, ("role", "tool_call_id", "content"))
            need(m["tool_call_id"] in pending, f + ".tool_call_id",
                 "does not answer a pending tool call")
            pending.remove(m["tool_call_id"])
            need(isinstance(m["content"], str), f + ".content", "must be a string")
        else:
            raise Bad("%s.role: unknown role %r" % (f, role))
    need(not pending, "messages", "tool_calls %s were not answered" % pending)


def check_openai(h, body):
    check_common(h, body, "/v1/chat/completions")
    need(h.headers.get("Authorization") == "Bearer " + ARGS.key, "header Authorization",
         "must be 'Bearer <key>'")
    check_keys(body, {"model", "messages", "tools", "max_tokens", "stream", "stream_options"}, "body")
    check_openai_messages(body.get("messages"))
    if "tools" in body:
        need(isinstance(body["tools"], list) and body["tools"], "tools", "must be a non-empty array")
        for i, t in enumerate(body["tools"]):
            f = "tools[%d]" % i
            check_keys(t, {"type", "function"}, f, ("type", "function"))
            need(t["type"] == "function", f + ".type", "must be \"function\"")
            check_keys(t["function"], {"name", "description", "parameters"}, f + ".function", ("name",))
            need(isinstance(t["function"]["name"], str) and NAME_RE.match(t["function"]["name"]),
                 f + ".function.name", "must match ^[a-zA-Z0-9_-]{1,64}$")
            if "description" in t["function"]:
                need(isinstance(t["function"]["description"], str), f + ".function.description",
                     "must be a string")
            if "parameters" in t["function"]:
                check_schema(t["function"]["parameters"], f + ".function.parameters")
    if body.get("stream") is True:
        need(body.get("stream_options") == {"include_usage": True}, "stream_options",
             "must be {\"include_usage\": true} when streaming")
    else:
        need("stream_options" not in body, "stream_options", "only allowed when streaming")


def check_anthropic_blocks(m, f, prev_tool_ids):
    content = m["content"]
    need(isinstance(content, list) and content, f + ".content", "must be a non-empty array")
    ids, seen_text = [], False
    for j, b in enumerate(content):
        g = "%s.content[%d]" % (f, j)
        need(isinstance(b, dict), g, "must be an object")
        t = b.get("type")
        if t == "text":
            check_keys(b, {"type", "text"}, g, ("type", "text"))
            need(isinstance(b["text"], str) and b["text"], g + ".text", "must be a non-empty string")
            seen_text = True
        elif t == "tool_use" and m["role"] == "assistant":
            check_keys(b, {"type", "id", "name", "input"}, g, ("type", "id", "name", "input"))
            need(isinstance(b["id"], str) and b["id"], g + ".id", "must be a non-empty string")
            need(isinstance(b["name"], str) and NAME_RE.match(b["name"]), g + ".name", "bad name")
            need(isinstance(b["input"], dict), g + ".input", "must be an object")
            ids.append(b["id"])
        elif t == "tool_result" and m["role"] == "user":
            check_keys(b, {"type", "tool_use_id", "content", "is_error"}, g,
                       ("type", "tool_use_id", "content"))
            need(not seen_text, g, "tool_result blocks must come before text")
            need(b["tool_use_id"] in prev_tool_ids, g + ".tool_use_id",
                 "does not answer a tool_use of the previous assistant turn")
            prev_tool_ids.remove(b["tool_use_id"])
            need(isinstance(b["content"], str), g + ".content", "must be a string")
            if "is_error" in b:
                need(b["is_error"] is True, g + ".is_error", "send it only when true")
        else:
            raise Bad("%s.type: %r is not allowed in a %s turn" % (g, t, m["role"]))
    return ids


def check_anthropic_messages(msgs):
    need(isinstance(msgs, list) and msgs, "messages", "must be a non-empty array")
    pending = []
    for i, m in enumerate(msgs):
        f = "messages[%d]" % i
        check_keys(m, {"role", "content"}, f, ("role", "content"))
        want = "user" if i % 2 == 0 else "assistant"
        need(m["role"] == want, f + ".role", "must be %s: turns alternate, user first" % want)
        ids = check_anthropic_blocks(m, f, pending)
        if m["role"] == "user":
            need(not pending, f, "tool_use %s not answered in this turn" % pending)
        pending = ids


def check_anthropic(h, body):
    check_common(h, body, "/v1/messages")
    need(h.headers.get("x-api-key") == ARGS.key, "header x-api-key", "must be the key")
    need(h.headers.get("anthropic-version") == "2023-06-01", "header anthropic-version",
         "must be 2023-06-01")
    need("Authorization" not in h.headers, "header Authorization", "must not be sent")
    check_keys(body, {"model", "max_tokens", "system", "messages", "tools", "stream"}, "body")
    if "system" in body:
        need(isinstance(body["system"], str), "system", "must be a string")
    check_anthropic_messages(body.get("messages"))
    if "tools" in body:
        need(isinstance(body["tools"], list) and body["tools"], "tools", "must be a non-empty array")
        for i, t in enumerate(body["tools"]):
            f = "tools[%d]" % i
            check_keys(t, {"name", "description", "input_schema"}, f, ("name", "input_schema"))
            need(isinstance(t["name"], str) and NAME_RE.match(t["name"]), f + ".name", "bad name")
            if "description" in t:
                need(isinstance(t["description"], str), f + ".description", "must be a string")
            check_schema(t["input_schema"], f + ".input_schema")


# ---- answers ---------------------------------------------------------------

def openai_usage(u):
    return {"prompt_tokens": u["input"], "completion_tokens": u["output"],
            "total_tokens": u["input"] + u["output"],
            "prompt_tokens_details": {"cached_tokens": u["cached"]}}


def openai_body(model, a):
    msg = {"role": "assistant", "content": a["text"]}
    if a["calls"]:
        msg["tool_calls"] = [{"id": call_id("openai", i), "type": "function",
                              "function": {"name": n, "arguments": json.dumps(args)}}
                             for i, (n, args) in enumerate(a["calls"])]
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": msg, "logprobs": None,
                                         "finish_reason": OPENAI_STOP[a["stop"]]}],
            "usage": openai_usage(a["usage"])}


def openai_events(model, a, cut=False, fail=False):
    def chunk(delta, finish=None, choices=True, usage=None):
        c = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1,
             "model": model, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                          "finish_reason": finish}] if choices else [],
             "usage": usage}
        return "data: " + json.dumps(c) + "\n\n"
    # A comment line, as OpenRouter sends while it waits: clients skip it.
    out = [chunk({"role": "assistant", "content": ""}), ": PROCESSING\n\n"]
    for p in pieces(a["text"] or ""):
        if p:
            out.append(chunk({"content": p}))
    if fail:
        return out + ["data: " + json.dumps({"error": {"message": "The server had an error "
                                                        "while processing your request."}}) + "\n\n"]
    if cut:
        return out
    for i, (n, args) in enumerate(a["calls"]):
        out.append(chunk({"tool_calls": [{"index": i, "id": call_id("openai", i), "type": "function",
                                          "function": {"name": n, "arguments": ""}}]}))
        for p in pieces(json.dumps(args)):
            out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": p}}]}))
    out.append(chunk({}, OPENAI_STOP[a["stop"]]))
    out.append(chunk(None, choices=False, usage=openai_usage(a["usage"])))
    out.append("data: [DONE]\n\n")
    return out


def anthropic_usage(u):
    return {"input_tokens": u["input"] - u["cached"] - u["created"],
            "cache_creation_input_tokens": u["created"],
            "cache_read_input_tokens": u["cached"], "output_tokens": u["output"]}


def anthropic_content(a):
    blocks = [{"type": "text", "text": a["text"]}] if a["text"] else []
    for i, (n, args) in enumerate(a["calls"]):
        blocks.append({"type": "tool_use", "id": call_id("anthropic", i), "name": n, "input": args})
    return blocks


def anthropic_body(model, a):
    return {"id": "msg_test", "type": "message", "role": "assistant", "model": model,
            "content": anthropic_content(a), "stop_reason": ANTHROPIC_STOP[a["stop"]],
            "stop_sequence": None, "usage": anthropic_usage(a["usage"])}


def sse(event, data):
    return "event: %s\ndata: %s\n\n" % (event, json.dumps(data))


def anthropic_events(model, a, cut=False, fail=False):
    start = anthropic_body(model, a)
    start.update(content=[], stop_reason=None)
    start["usage"] = dict(anthropic_usage(a["usage"]), output_tokens=1)
    out = [sse("message_start", {"type": "message_start", "message": start}),
           sse("ping", {"type": "ping"})]
    for i, b in enumerate(anthropic_content(a)):
        if b["type"] == "text":
            out.append(sse("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": {"type": "text", "text": ""}}))
            for p in pieces(b["text"]):
                out.append(sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "text_delta", "text": p}}))
        else:
            out.append(sse("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": dict(b, input={})}))
            for p in pieces(json.dumps(b["input"])):
                out.append(sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "input_json_delta",
                                                                 "partial_json": p}}))
        if fail:
            return out + [sse("error", {"type": "error", "error": {"type": "overloaded_error",
                                                                   "message": "Overloaded"}})]
        if cut:
            return out
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": i}))
    out.append(sse("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": ANTHROPIC_STOP[a["stop"]],
                                               "stop_sequence": None},
                                     "usage": {"output_tokens": a["usage"]["output"]}}))
    out.append(sse("message_stop", {"type": "message_stop"}))
    return out


def error_body(api, status, kind, message):
    if api == "openai":
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return {"type": "error", "error": {"type": kind, "message": message}}


# ---- the handler -----------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj, extra=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_stream(self, events):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for e in events:
            if not e:
                continue
            data = e.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        self.send_json(405, {"error": {"message": "method: must be POST"}})

    def do_POST(self):
        api = "openai" if self.path.endswith("/chat/completions") else "anthropic"
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        model = body.get("model") if isinstance(body, dict) and isinstance(body.get("model"), str) else "?"
        with LOCK:
            ATTEMPTS[model] = attempt = ATTEMPTS.get(model, 0) + 1
            IN_FLIGHT[model] = in_flight = IN_FLIGHT.get(model, 0) + 1
        try:
            violation = None
            try:
                (check_openai if api == "openai" else check_anthropic)(self, body)
            except Bad as e:
                violation = str(e)
            self.record(api, model, body, attempt, in_flight, violation)
            if violation:
                self.send_json(400, error_body(api, 400, "invalid_request_error",
                                               "bad request: " + violation))
                return
            self.answer(api, model, body, attempt)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            with LOCK:
                IN_FLIGHT[model] -= 1

    def record(self, api, model, body, attempt, in_flight, violation):
        headers = {}
        for k, v in self.headers.items():
            headers[k.lower()] = "<key>" if k.lower() in ("authorization", "x-api-key") else v
        key_ok = (self.headers.get("Authorization") == "Bearer " + ARGS.key if api == "openai"
                  else self.headers.get("x-api-key") == ARGS.key)
        rec = {"scenario": model.split("#")[0], "model": model, "api": api, "path": self.path,
               "headers": headers, "key_ok": key_ok, "body": body, "attempt": attempt,
               "in_flight": in_flight, "violation": violation}
        with LOCK:
            LOG.write(json.dumps(rec) + "\n")
            LOG.flush()

    def answer(self, api, model, body, attempt):
        scen = model.split("#")[0]
        stream = body.get("stream") is True
        if scen in ANSWERS or scen in ("retry429", "retry500", "slowok", "streamcut", "streamerr"):
            return self.answer_ok(api, model, scen, stream, attempt)
        if scen == "fail500":
            return self.send_json(500, error_body(api, 500, "api_error", "Internal server error"))
        if scen == "auth401":
            # Harsher than the real APIs (which mask the key): it echoes the
            # key whole, so the test can prove the client cuts it out.
            kind = "invalid_request_error" if api == "openai" else "authentication_error"
            return self.send_json(401, error_body(api, 401, kind,
                                                  "Incorrect API key provided: %s." % ARGS.key))
        if scen == "malformed":
            data = b'{"id": "x", "choices": [{"index": 0, "message": {"role": '
            return self.send_raw(200, data, len(data))
        if scen == "truncated":
            data = json.dumps(openai_body(model, TEXT) if api == "openai"
                              else anthropic_body(model, TEXT)).encode()
            return self.send_raw(200, data[:40], len(data))
        if scen == "slow":
            time.sleep(2.0)
            return self.answer_ok(api, model, "text", stream, attempt)
        if scen == "huge":
            a = dict(TEXT, text="x" * 300000)
            return self.send_json(200, openai_body(model, a) if api == "openai"
                                  else anthropic_body(model, a))
        if scen == "noshape":
            if api == "openai":
                return self.send_json(200, {"id": "chatcmpl-test", "object": "chat.completion"})
            return self.send_json(200, {"id": "msg_test", "type": "message", "role": "assistant"})
        self.send_json(404, error_body(api, 404, "not_found_error", "unknown scenario " + scen))

    def answer_ok(self, api, model, scen, stream, attempt):
        if scen == "retry429" and attempt == 1:
            return self.send_json(429, error_body(api, 429, "rate_limit_error", "Rate limit reached"),
                                  [("Retry-After", "1")])
        if scen == "retry500" and attempt <= 2:
            return self.send_json(500, error_body(api, 500, "api_error", "Internal server error"))
        if scen == "slowok":
            time.sleep(0.15)
        a = ANSWERS.get(scen, TEXT)
        if scen in ("streamcut", "streamerr"):
            a = ANSWERS["tools1"]
        if not stream:
            return self.send_json(200, openai_body(model, a) if api == "openai"
                                  else anthropic_body(model, a))
        cut = scen == "streamcut"
        fail = scen == "streamerr" and attempt == 1
        events = openai_events if api == "openai" else anthropic_events
        self.send_stream(events(model, a, cut=cut, fail=fail))

    def send_raw(self, status, data, length):
        """Sends `data` announcing `length` bytes; if short, then hangs up."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        if len(data) < length:
            self.close_connection = True


def main():
    global ARGS, LOG
    p = argparse.ArgumentParser()
    p.add_argument("--log", required=True)
    p.add_argument("--key", required=True)
    ARGS = p.parse_args()
    LOG = open(ARGS.log, "a", encoding="utf-8")
    testserver.serve(Handler, 120)


if __name__ == "__main__":
    main()
