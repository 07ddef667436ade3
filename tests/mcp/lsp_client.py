"""A small LSP client over stdio for the MCP tests: JSON-RPC with Content-Length framing, every
message the server sends kept in order, and the server's requests answered as a plain editor
would (applyEdit applied, documents shown, progress tokens accepted, questions dismissed).
Waiting is on messages, never on time (the deadline only turns a hang into a failure)."""

import json
import queue
import subprocess
import threading
from pathlib import Path

DEADLINE = 60


class LspClient:
    def __init__(self, argv, root):
        self.root = Path(root)
        self.proc = subprocess.Popen(argv, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.messages = queue.Queue()
        self.seen = []
        self.next_id = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            msg = json.loads(out.read(length))
            if "method" in msg and "id" in msg:
                self._answer(msg)
            self.messages.put(msg)

    def _answer(self, req):
        method = req["method"]
        result = None
        if method == "workspace/applyEdit":
            result = {"applied": True}
        elif method == "window/showDocument":
            result = {"success": True}
        elif method == "workspace/configuration":
            result = [None for _ in req["params"].get("items", [])]
        self._send({"jsonrpc": "2.0", "id": req["id"], "result": result})

    def _send(self, msg):
        body = json.dumps(msg).encode()
        with self.lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        rid = self.next_id
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        reply = self.wait_for(lambda m: m.get("id") == rid and "method" not in m)
        assert "error" not in reply, f"{method}: {reply['error']}"
        return reply.get("result")

    def notify(self, method, params):
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_for(self, pred):
        """The first message (already seen or still to come) that `pred` accepts."""
        for m in self.seen:
            if pred(m):
                self.seen.remove(m)
                return m
        while True:
            m = self.messages.get(timeout=DEADLINE)
            if m is None:
                raise AssertionError("the language server ended")
            if pred(m):
                return m
            self.seen.append(m)

    def initialize(self):
        uri = self.root.resolve().as_uri()
        self.request("initialize", {
            "processId": None,
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": self.root.name}],
            "capabilities": {
                "workspace": {"applyEdit": True, "workspaceEdit": {"documentChanges": True}},
                "window": {"workDoneProgress": True, "showDocument": {"support": True}},
                "textDocument": {"codeLens": {}},
            },
        })
        self.notify("initialized", {})

    def command(self, name, args):
        return self.request("workspace/executeCommand", {"command": name, "arguments": [args]})

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=DEADLINE)
        except Exception:
            self.proc.kill()
            self.proc.wait()
