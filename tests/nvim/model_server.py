#!/usr/bin/env python3
"""A scripted OpenAI-compatible model server for the Neovim end-to-end tests (stdlib only).

    python3 model_server.py [--script FILE] [--log FILE]

Listens on 127.0.0.1 on a free port and prints `PORT <n>` on its first line of stdout.

- `GET /v1/models` lists `test` and `other`.
- `POST /v1/chat/completions` answers with the next reply of the script (the last one is
  repeated when the script runs out). A reply with `"when": "WORDS"` is not in that order: it
  answers every request whose last message contains WORDS (the first such reply wins), so runs
  working at once get their own answers whatever order they ask in. A reply is a JSON object:
      {"text": "…"}                     streamed as chunks of about `chunk` characters (default 12)
      {"chunks": ["…", "…"]}            streamed exactly as given
      {"hold_after": 2, "wait_for": P}  after 2 chunks, wait until the file P exists, then go on
      {"status": 500, "body": "…"}      an error status instead of a stream
  Streams are `text/event-stream`: `data: {chat.completion.chunk}` lines, a final chunk with
  `finish_reason: "stop"`, a usage chunk and `data: [DONE]`; non-streaming requests get one
  `chat.completion` object.
- Every chat request is appended to the log file (one JSON object a line), so a test can check
  which prompt and which model the editor sent.

The server stops when its stdin closes (the test that started it ended) or on SIGTERM.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_REPLY = {"text": "The lamp burned on."}


class Script:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.replies = []
        if path:
            with open(path, encoding="utf-8") as f:
                self.replies = json.load(f)
        self.keyed = [r for r in self.replies if "when" in r]
        self.replies = [r for r in self.replies if "when" not in r]
        self.served = 0

    def next(self, asked=""):
        for reply in self.keyed:
            if reply["when"] in asked:
                return reply
        with self.lock:
            if not self.replies:
                reply = DEFAULT_REPLY
            elif self.served < len(self.replies):
                reply = self.replies[self.served]
            else:
                reply = self.replies[-1]
            self.served += 1
            return reply


def chunks_of(reply):
    if "chunks" in reply:
        return list(reply["chunks"])
    text = reply.get("text", "")
    size = max(1, int(reply.get("chunk", 12)))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def last_message(body):
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return ""
    content = messages[-1].get("content")
    if isinstance(content, list):  # content parts
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def wait_for_file(path, limit=60.0):
    # The test creates the file when it has seen the first chunks arrive in the editor.
    deadline = time.monotonic() + limit
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "showrunner-test-model/1"

    def log_message(self, fmt, *args):  # quiet: stdout carries the port, stderr stays clean
        pass

    def send_json(self, code, value):
        body = json.dumps(value).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            self.send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": "test", "object": "model", "owned_by": "tests"},
                        {"id": "other", "object": "model", "owned_by": "tests"},
                    ],
                },
            )
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        log = self.server.log_path
        if log:
            with self.server.log_lock, open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"path": self.path, "body": body}, ensure_ascii=False) + "\n")
        reply = self.server.script.next(last_message(body))
        if "status" in reply:
            self.send_json(int(reply["status"]), {"error": {"message": reply.get("body", "error")}})
            return
        model = body.get("model", "test")
        pieces = chunks_of(reply)
        if not body.get("stream"):
            text = "".join(pieces)
            self.send_json(
                200,
                {
                    "id": "cmpl-test",
                    "object": "chat.completion",
                    "model": model,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 12, "completion_tokens": len(pieces), "total_tokens": 12 + len(pieces)},
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def event(value):
            self.wfile.write(b"data: " + json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n\n")
            self.wfile.flush()

        def chunk(delta, finish=None):
            event(
                {
                    "id": "cmpl-test",
                    "object": "chat.completion.chunk",
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
            )

        try:
            chunk({"role": "assistant", "content": ""})
            hold = reply.get("hold_after")
            for i, piece in enumerate(pieces):
                if hold is not None and i == int(hold) and reply.get("wait_for"):
                    wait_for_file(reply["wait_for"])
                chunk({"content": piece})
            chunk({}, "stop")
            event(
                {
                    "id": "cmpl-test",
                    "object": "chat.completion.chunk",
                    "choices": [],
                    "usage": {"prompt_tokens": 12, "completion_tokens": len(pieces), "total_tokens": 12 + len(pieces)},
                }
            )
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", help="JSON file: a list of replies")
    parser.add_argument("--log", help="append every chat request here (JSON lines)")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.script = Script(args.script)
    server.log_path = args.log
    server.log_lock = threading.Lock()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    # Live as long as whoever started us: stdin closes when the test process ends.
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    server.shutdown()


if __name__ == "__main__":
    main()
