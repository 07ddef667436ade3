//! A scripted OpenAI-compatible model server on 127.0.0.1 for tests: real HTTP over real
//! sockets. Each connection takes the next reply from the script: an SSE stream (optionally
//! slow, or cut off), a status with headers, a plain JSON answer, or a hang.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub enum Reply {
    /// `text/event-stream`: each piece is raw SSE text, sent after its delay.
    Stream(Vec<(Duration, String)>),
    /// The same, then the connection is dropped without `[DONE]`.
    Cut(Vec<(Duration, String)>),
    Status {
        code: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    Json(Value),
    /// Reads the request and never answers.
    Hang,
    /// Reads the request and closes the connection without a word (a server that crashed).
    Drop,
}

impl Reply {
    /// A normal stream of content tokens, then a usage chunk and `[DONE]`.
    pub fn tokens(tokens: &[&str]) -> Reply {
        let mut pieces: Vec<(Duration, String)> =
            tokens.iter().map(|t| (Duration::ZERO, chunk(json!({ "content": t })))).collect();
        pieces
            .push((Duration::ZERO, sse(&json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] }))));
        pieces.push((Duration::ZERO, sse(&json!({ "choices": [], "usage": { "prompt_tokens": 12, "completion_tokens": tokens.len(), "total_tokens": 12 + tokens.len() } }))));
        pieces.push((Duration::ZERO, "data: [DONE]\n\n".into()));
        Reply::Stream(pieces)
    }

    /// Tokens with a pause before each.
    pub fn slow(tokens: &[&str], every: Duration) -> Reply {
        match Reply::tokens(tokens) {
            Reply::Stream(p) => Reply::Stream(p.into_iter().map(|(_, s)| (every, s)).collect()),
            other => other,
        }
    }

    pub fn status(code: u16, body: &str) -> Reply {
        Reply::Status { code, headers: Vec::new(), body: body.into() }
    }
}

/// One SSE event with a JSON payload.
pub fn sse(v: &Value) -> String {
    format!("data: {v}\n\n")
}

/// A chunk whose `choices[0].delta` is `delta`.
pub fn chunk(delta: Value) -> String {
    sse(
        &json!({ "id": "c", "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": delta, "finish_reason": null }] }),
    )
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The last message of a chat request's body: what the model is asked now.
pub fn asked(body: &Value) -> &str {
    body["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str()).unwrap_or("")
}

/// Which of the example story's chapter-one scenes a prompt holds (by a line of each):
/// `arrival`, `hut`, `supper`, else `episode` (the screenplay scene).
pub fn example_scene_in(prompt: &str) -> &'static str {
    [
        ("The boat from Port Ainsley", "arrival"),
        ("The wireless hut stood", "hut"),
        ("Tom Marlowe had kept lights", "supper"),
    ]
    .iter()
    .find(|(line, _)| prompt.contains(line))
    .map(|(_, scene)| *scene)
    .unwrap_or("episode")
}

pub struct ModelServer {
    /// e.g. `http://127.0.0.1:43123/v1`.
    pub url: String,
    inner: Arc<Inner>,
}

/// A reply per chat request, by its number (0-based) among them and its body.
type Program = Box<dyn Fn(usize, &Value) -> Reply + Send + Sync>;

struct Inner {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    /// Answers when the script is empty.
    program: Option<Program>,
    chats: std::sync::atomic::AtomicUsize,
    /// At most this many chat requests are served at once; the others wait their turn, as in
    /// an engine's queue.
    capacity: Option<usize>,
    /// Chat requests being served now, and the most there ever were.
    busy: Mutex<(usize, usize)>,
    freed: std::sync::Condvar,
}

impl ModelServer {
    pub fn start(script: Vec<Reply>) -> ModelServer {
        ModelServer::spawn(Inner::new(script, None, None))
    }

    /// Answers chat request number n with `program(n, body)`, serving at most `capacity` at
    /// once.
    pub fn programmed(
        capacity: usize,
        program: impl Fn(usize, &Value) -> Reply + Send + Sync + 'static,
    ) -> ModelServer {
        ModelServer::spawn(Inner::new(Vec::new(), Some(Box::new(program)), Some(capacity)))
    }

    fn spawn(inner: Inner) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let inner = Arc::new(inner);
        let shared = inner.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let inner = shared.clone();
                std::thread::spawn(move || serve(stream, &inner));
            }
        });
        ModelServer { url, inner }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// Adds replies to the end of the script.
    pub fn push(&self, reply: Reply) {
        self.inner.script.lock().unwrap().push_back(reply);
    }

    /// The most chat requests that were ever being served at once.
    pub fn most_at_once(&self) -> usize {
        self.inner.busy.lock().unwrap().1
    }
}

impl Inner {
    fn new(script: Vec<Reply>, program: Option<Program>, capacity: Option<usize>) -> Inner {
        Inner {
            script: Mutex::new(VecDeque::from(script)),
            requests: Mutex::new(Vec::new()),
            program,
            chats: Default::default(),
            capacity,
            busy: Mutex::new((0, 0)),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits for a free slot; the slot is given back when the guard drops.
    fn slot(&self) -> Slot<'_> {
        let mut busy = self.busy.lock().unwrap();
        while self.capacity.is_some_and(|c| busy.0 >= c) {
            busy = self.freed.wait(busy).unwrap();
        }
        busy.0 += 1;
        busy.1 = busy.1.max(busy.0);
        Slot(self)
    }
}

struct Slot<'a>(&'a Inner);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.busy.lock().unwrap().0 -= 1;
        self.0.freed.notify_one();
    }
}

fn serve(stream: TcpStream, inner: &Inner) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone socket"));
    let mut first = String::new();
    if reader.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let Some(headers) = crate::read_headers(&mut reader) else { return };
    let length = crate::content_length(&headers).unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.requests.lock().unwrap().push(Recorded { method, path: path.clone(), headers, body: body.clone() });
    let (reply, _slot) = if path.ends_with("/models") {
        (Reply::Json(json!({ "object": "list", "data": [{ "id": "llama3.1" }, { "id": "qwen2.5" }] })), None)
    } else {
        let slot = inner.slot();
        let scripted = inner.script.lock().unwrap().pop_front();
        let reply = scripted
            .or_else(|| {
                let n = inner.chats.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                inner.program.as_ref().map(|p| p(n, &body))
            })
            .unwrap_or_else(|| Reply::status(500, "script exhausted"));
        (reply, Some(slot))
    };
    let mut out = stream;
    match reply {
        Reply::Stream(pieces) | Reply::Cut(pieces) => {
            let _ = out.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n");
            for (delay, piece) in pieces {
                std::thread::sleep(delay);
                if out.write_all(piece.as_bytes()).and_then(|_| out.flush()).is_err() {
                    return;
                }
            }
        }
        Reply::Status { code, headers, body } => {
            let mut head = format!(
                "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(body.as_bytes());
        }
        Reply::Json(v) => {
            let body = v.to_string();
            let _ = out.write_all(format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes());
        }
        Reply::Drop => return,
        Reply::Hang => {
            // Keep the socket open without answering until the client gives up.
            let mut buf = [0u8; 1];
            let _ = reader.read(&mut buf);
        }
    }
    let _ = out.flush();
}
