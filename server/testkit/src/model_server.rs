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

pub struct ModelServer {
    /// e.g. `http://127.0.0.1:43123/v1`.
    pub url: String,
    script: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl ModelServer {
    pub fn start(script: Vec<Reply>) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (script.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, r) = (s.clone(), r.clone());
                std::thread::spawn(move || serve(stream, &s, &r));
            }
        });
        ModelServer { url, script, requests }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Adds replies to the end of the script.
    pub fn push(&self, reply: Reply) {
        self.script.lock().unwrap().push_back(reply);
    }
}

fn serve(stream: TcpStream, script: &Mutex<VecDeque<Reply>>, requests: &Mutex<Vec<Recorded>>) {
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
    requests.lock().unwrap().push(Recorded { method, path: path.clone(), headers, body });
    let reply = if path.ends_with("/models") {
        Reply::Json(json!({ "object": "list", "data": [{ "id": "llama3.1" }, { "id": "qwen2.5" }] }))
    } else {
        script.lock().unwrap().pop_front().unwrap_or_else(|| Reply::status(500, "script exhausted"))
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
        Reply::Hang => {
            // Keep the socket open without answering until the client gives up.
            let mut buf = [0u8; 1];
            let _ = reader.read(&mut buf);
        }
    }
    let _ = out.flush();
}
