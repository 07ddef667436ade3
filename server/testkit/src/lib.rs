//! A small LSP client for end-to-end tests and benchmarks: spawns `showrunner lsp`, frames
//! JSON-RPC over stdio, answers the server's own requests, and keeps notifications for the caller
//! to wait on. Every wait is for a message, never for time (the timeout only turns a hang into a
//! failure).

pub mod model_server;
pub mod schema;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::Duration;

use serde_json::{json, Value};

const PATIENCE: Duration = Duration::from_secs(60);

/// A state folder that cannot be created (below a file): the server logs to stderr only.
pub const NO_STATE_HOME: &str = "/dev/null/showrunner-tests";

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    /// The `processId` that `initialize` sends (the editor's process, which the server watches).
    pub editor_pid: Option<u32>,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications (and server requests) seen but not yet consumed by the test.
    pending: VecDeque<Value>,
    /// Results for the server's requests, by method (`null` for the others).
    answers: std::collections::HashMap<String, Value>,
    /// The server's requests this client never answers (a client that hangs).
    unanswered: std::collections::HashSet<String>,
}

/// The list at `v`, moved out (a deep copy of hundreds of diagnostics costs milliseconds).
fn take_list(v: &mut Value) -> Vec<Value> {
    match v.take() {
        Value::Array(list) => list,
        _ => Vec::new(),
    }
}

/// The protocol schema, read once per test process.
fn protocol_schema() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(schema::protocol)
}

pub fn uri(path: &Path) -> String {
    let p = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::from("file://");
    for b in p.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The path of a `file://` URI (the inverse of [`uri`]: percent-escapes decoded).
pub fn uri_path(uri: &str) -> std::path::PathBuf {
    let s = uri.strip_prefix("file://").unwrap_or(uri);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    std::path::PathBuf::from(String::from_utf8_lossy(&out).into_owned())
}

impl Client {
    /// Starts `BINARY lsp` with extra environment variables. Its log goes nowhere but stderr
    /// (which is dropped) unless `env` says where: the default state folder is one that cannot
    /// be created, so that tests never write to the user's `~/.local/state`.
    pub fn spawn(binary: &Path, env: &[(&str, &str)]) -> Client {
        let mut cmd = Command::new(binary);
        cmd.arg("lsp").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        cmd.env("XDG_STATE_HOME", NO_STATE_HOME).env_remove("SHOWRUNNER_LOG_FILE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn showrunner lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let Some(headers) = read_headers(&mut reader) else { return };
                let mut body = vec![0; content_length(&headers).expect("Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let v: Value = serde_json::from_slice(&body).expect("server sends JSON");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin: Some(stdin),
            editor_pid: None,
            rx,
            next_id: 1,
            pending: VecDeque::new(),
            answers: Default::default(),
            unanswered: Default::default(),
        }
    }

    pub fn send_raw(&mut self, body: &[u8]) {
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(body);
        self.send_bytes(&frame);
    }

    /// Writes bytes as they are: frames of any shape, broken ones included.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("the input is still open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes the server's input, as an editor that dies or quits without `exit` does.
    pub fn close_input(&mut self) {
        self.stdin = None;
    }

    /// Reads what the server still sends until it closes its output (failing the test if it
    /// keeps it open), then its exit code.
    pub fn wait_gone(&mut self) -> Option<i32> {
        loop {
            match self.rx.recv_timeout(PATIENCE) {
                Ok(v) => self.pending.push_back(v),
                Err(RecvTimeoutError::Timeout) => panic!("the server is still running after {PATIENCE:?}"),
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.child.wait().ok().and_then(|s| s.code())
    }

    /// The next message the server sent (answering its requests as usual).
    pub fn next_message(&mut self) -> Value {
        match self.pending.pop_front() {
            Some(v) => v,
            None => self.recv(),
        }
    }

    fn send(&mut self, v: &Value) {
        let body = serde_json::to_vec(v).unwrap();
        self.send_raw(&body);
    }

    fn recv(&mut self) -> Value {
        match self.rx.recv_timeout(PATIENCE) {
            Ok(v) => {
                // Showrunner's own notification must be what the protocol schema says.
                if v["method"] == "showrunner/runProgress" {
                    if let Err(e) =
                        schema::check_notification(protocol_schema(), "showrunner/runProgress", &v["params"])
                    {
                        panic!("the server sent a runProgress the protocol does not describe: {e}\n{v}");
                    }
                }
                // Answer the server's own requests at once (but those it was told to leave).
                if let (Some(method), Some(id)) =
                    (v["method"].as_str().filter(|m| !self.unanswered.contains(*m)), v.get("id"))
                {
                    let result = self.answers.get(method).cloned().unwrap_or(Value::Null);
                    let id = id.clone();
                    self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": result }));
                }
                v
            }
            Err(RecvTimeoutError::Timeout) => panic!("the server sent nothing for {PATIENCE:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let v = self.recv();
            if v.get("id") == Some(&json!(id)) && v.get("method").is_none() {
                return v;
            }
            self.pending.push_back(v);
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let command =
            (method == "workspace/executeCommand").then(|| params["command"].as_str().map(str::to_string)).flatten();
        let mut v = self.request_raw(method, params);
        assert!(v.get("error").is_none(), "{method} failed: {v}");
        // A command's result must be what the protocol schema says.
        if let Some(c) = command.filter(|c| c.starts_with("showrunner.")) {
            if let Err(e) = schema::check_result(protocol_schema(), &c, &v["result"]) {
                panic!("{e}\n{}", v["result"]);
            }
        }
        // Moved out, not copied: a deep copy of thousands of locations costs milliseconds.
        v.get_mut("result").map(Value::take).unwrap_or(Value::Null)
    }

    /// Answers the server's `method` requests with `result` from now on (e.g.
    /// `workspace/applyEdit` → `{"applied": true}`).
    pub fn answer(&mut self, method: &str, result: Value) {
        self.answers.insert(method.to_string(), result);
    }

    /// Never answers the server's `method` requests from now on, as a client that hangs would.
    pub fn never_answer(&mut self, method: &str) {
        self.unanswered.insert(method.to_string());
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Waits for a notification matching `pred`, keeping the others.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).unwrap();
        }
        loop {
            let v = self.recv();
            if pred(&v) {
                return v;
            }
            self.pending.push_back(v);
            assert!(self.pending.len() < 100_000, "never got {what}");
        }
    }

    /// The next diagnostics published for `uri` that satisfy `pred`.
    pub fn diagnostics(&mut self, uri: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let mut v = self.wait_for(&format!("diagnostics for {uri}"), |v| {
            v["method"] == "textDocument/publishDiagnostics"
                && v["params"]["uri"] == uri
                && pred(v["params"]["diagnostics"].as_array().map(Vec::as_slice).unwrap_or(&[]))
        });
        take_list(&mut v["params"]["diagnostics"])
    }

    /// The server's process id (for memory measurements).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Diagnostics published for `uri` at document `version`.
    pub fn diagnostics_at(&mut self, uri: &str, version: i64) -> Vec<Value> {
        take_list(&mut self.published(uri, version)["params"]["diagnostics"])
    }

    /// The `publishDiagnostics` notification for `version` of `uri`, whole.
    pub fn published(&mut self, uri: &str, version: i64) -> Value {
        self.wait_for(&format!("diagnostics for {uri} v{version}"), |v| {
            v["method"] == "textDocument/publishDiagnostics"
                && v["params"]["uri"] == uri
                && v["params"]["version"] == version
        })
    }

    /// Drops every notification received so far.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Every notification and server request received so far and not consumed, taken.
    pub fn take_received(&mut self) -> Vec<Value> {
        self.pending.drain(..).collect()
    }

    pub fn initialize(&mut self, folders: &[&Path], utf8: bool) -> Value {
        self.initialize_with(folders, utf8, json!({}))
    }

    /// [`Client::initialize`] with more client capabilities, merged into the usual ones (e.g.
    /// pull diagnostics: `{"textDocument": {"diagnostic": {}}}`).
    pub fn initialize_with(&mut self, folders: &[&Path], utf8: bool, more: Value) -> Value {
        let mut caps = json!({
            "window": { "workDoneProgress": true, "showDocument": { "support": true } },
            "workspace": {
                "didChangeWatchedFiles": { "dynamicRegistration": true },
                "applyEdit": true,
                "workspaceEdit": { "documentChanges": true }
            },
            "textDocument": { "synchronization": { "didSave": true }, "codeLens": {} }
        });
        if utf8 {
            caps["general"] = json!({ "positionEncodings": ["utf-8", "utf-16"] });
        }
        merge(&mut caps, more);
        let folders: Vec<Value> = folders.iter().map(|f| json!({ "uri": uri(f), "name": "w" })).collect();
        self.answers.entry("workspace/applyEdit".into()).or_insert(json!({ "applied": true }));
        self.answers.entry("window/showDocument".into()).or_insert(json!({ "success": true }));
        let r = self.request(
            "initialize",
            json!({ "processId": self.editor_pid, "capabilities": caps, "workspaceFolders": folders }),
        );
        self.notify("initialized", json!({}));
        // Indexing ends with a progress `end`.
        self.wait_for("indexing finished", |v| v["method"] == "$/progress" && v["params"]["value"]["kind"] == "end");
        r
    }

    /// `initialize` as a client with no optional capabilities at all (no progress, no watched
    /// files, no applyEdit: eglot or Helix as they come); does not wait for indexing.
    pub fn initialize_plain(&mut self, folders: &[&Path]) -> Value {
        let folders: Vec<Value> = folders.iter().map(|f| json!({ "uri": uri(f), "name": "w" })).collect();
        let r = self.request(
            "initialize",
            json!({ "processId": self.editor_pid, "capabilities": {}, "workspaceFolders": folders }),
        );
        self.notify("initialized", json!({}));
        r
    }

    pub fn open(&mut self, path: &Path, language: &str) -> String {
        let u = uri(path);
        let text = std::fs::read_to_string(path).unwrap();
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": u, "languageId": language, "version": 1, "text": text } }),
        );
        u
    }

    /// Waits for the server process to end; its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        self.child.wait().ok().and_then(|s| s.code())
    }

    /// `shutdown`, `exit`, and the process must end with status 0.
    pub fn finish(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Merges `more` into `into`: objects key by key, anything else replaced.
fn merge(into: &mut Value, more: Value) {
    match (into, more) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Reads header lines up to the blank line that ends them (LSP frames and HTTP requests alike);
/// `None` at the end of the stream.
pub fn read_headers(reader: &mut impl BufRead) -> Option<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Some(headers);
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
}

pub fn content_length(headers: &[(String, String)]) -> Option<usize> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.parse().ok())
}

/// Reads `from` until what it printed contains `needle` (a run streaming its answer); what was
/// read. Fails the test when the output ends first.
pub fn read_until(from: &mut impl Read, needle: &str) -> String {
    let (mut seen, mut buf) = (String::new(), [0u8; 256]);
    while !seen.contains(needle) {
        let n = from.read(&mut buf).expect("read the output");
        assert!(n > 0, "the output ended before `{needle}`: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    seen
}

/// Writes `bytes` to `root/rel`, creating folders: the fixture helper every test shares.
pub fn write_file(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("a file inside a folder")).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// Runs `binary` with arguments in `cwd`, with extra environment variables, to completion.
pub fn run_binary(binary: &Path, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(binary);
    cmd.args(args).current_dir(cwd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

/// What a command printed, stdout then stderr.
pub fn output_text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Runs `binary args…` in `cwd` on a pseudo-terminal (util-linux `script`), as a writer's
/// terminal would: whether it succeeded and everything the terminal showed. `None` when this
/// machine has no `script` (the caller skips, saying so).
pub fn run_on_terminal(binary: &Path, args: &[&str], cwd: &Path) -> Option<(bool, String)> {
    std::process::Command::new("script").arg("--version").output().ok()?;
    let mut cmd = binary.display().to_string();
    for a in args {
        cmd.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
    }
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(cwd)
        .env("XDG_CONFIG_HOME", cwd.join(".no-user-config"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script runs");
    Some((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The example story in a fresh temporary folder, its models pointed at `model_url`: the
/// folder (removed when dropped) and the project.
pub fn example_on(binary: &Path, model_url: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let dir = example_at(binary, tmp.path(), model_url);
    (tmp, dir)
}

/// `showrunner init story --example` in `parent`, its models pointed at `model_url` (the
/// example names Ollama's address); the project's folder.
pub fn example_at(binary: &Path, parent: &Path, model_url: &str) -> std::path::PathBuf {
    let out = run_binary(binary, &["init", "story", "--example"], parent, &[]);
    assert!(out.status.success(), "{}", output_text(&out));
    let dir = parent.join("story").canonicalize().expect("the example exists");
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml")).expect("its config");
    std::fs::write(dir.join("showrunner.yaml"), cfg.replace("http://127.0.0.1:11434/v1", model_url)).expect("write");
    dir
}
