//! A guard in front of the protocol codec. The codec underneath stops reading for good after a
//! body it cannot decode, so only well-formed JSON-RPC 2.0 messages reach it: everything else is
//! answered here with the error JSON-RPC prescribes (`-32700` for a body that is not JSON,
//! `-32600` for JSON that is not a message; `id: null` when there is no usable id), and the
//! session goes on. Framing resynchronises on the next `Content-Length:` header after a bad
//! frame: a length too small leaves the rest of its body as garbage before the next header, a
//! length too large is cut where the next frame's header starts (a header line cannot be part of
//! a JSON body: JSON strings hold no raw line breaks).

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// How long a header block may grow before it is taken for garbage.
const MAX_HEADER: usize = 8 << 10;

/// Copies well-formed JSON-RPC frames from `input` to `output`; every other frame gets its error
/// response through `reply` (a whole body). Returns at the end of the input, or when `output`
/// closes.
pub async fn guard<R, W>(input: R, mut output: W, reply: impl Fn(Vec<u8>))
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = Frames { input, buf: Vec::new(), eof: false };
    while let Some(body) = frames.next().await {
        match check(&body) {
            Ok(()) => {
                if write_frame(&mut output, &body).await.is_err() {
                    return;
                }
            }
            Err(Refused { id, code, message }) => {
                tracing::error!(bytes = body.len(), code, "refused a message: {message}");
                if let Some(id) = id {
                    let error = json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } });
                    reply(error.to_string().into_bytes());
                }
            }
        }
    }
}

/// Why a body is not passed on: the error response's id (`None`: a response, which gets no
/// answer), code and message.
#[derive(Debug)]
pub struct Refused {
    pub id: Option<Value>,
    pub code: i64,
    pub message: String,
}

/// Whether `body` is one well-formed JSON-RPC 2.0 message that the codec takes.
pub fn check(body: &[u8]) -> Result<(), Refused> {
    let parse_error = |message: String| Refused { id: Some(Value::Null), code: -32700, message };
    let text =
        std::str::from_utf8(body).map_err(|e| parse_error(format!("Parse error: the message is not UTF-8 ({e})")))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| parse_error(format!("Parse error: the message is not JSON ({e})")))?;
    let invalid = |id: Value, message: &str| Refused {
        id: Some(id),
        code: -32600,
        message: format!("Invalid Request: {message}"),
    };
    let Value::Object(map) = &value else {
        let what =
            if value.is_array() { "a batch (an array); LSP sends one message per frame" } else { "not an object" };
        return Err(invalid(Value::Null, what));
    };
    // The id to answer with: a number or a string; anything else is no usable id.
    let id = match map.get("id") {
        Some(v @ Value::String(_)) => Some(v.clone()),
        Some(v @ Value::Number(n)) if n.is_i64() => Some(v.clone()),
        Some(Value::Null) | None => None,
        Some(_) => return Err(invalid(Value::Null, "`id` must be an integer or a string")),
    };
    let answer_id = id.clone().unwrap_or(Value::Null);
    if map.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid(answer_id, "`jsonrpc` must be \"2.0\""));
    }
    match map.get("method") {
        Some(Value::String(m)) if !m.is_empty() => {
            if map.contains_key("result") || map.contains_key("error") {
                return Err(invalid(answer_id, "a request has no `result` or `error`"));
            }
            if !matches!(map.get("params"), None | Some(Value::Object(_) | Value::Array(_) | Value::Null)) {
                return Err(invalid(answer_id, "`params` must be an object or an array"));
            }
            serde_json::from_str::<tower_lsp_server::jsonrpc::Request>(text)
                .map(drop)
                .map_err(|e| invalid(answer_id, &e.to_string()))
        }
        Some(_) => Err(invalid(answer_id, "`method` must be a non-empty string")),
        // A response to one of the server's requests: it gets no answer of its own.
        None => {
            let refuse =
                |message: &str| Refused { id: None, code: -32600, message: format!("Invalid Response: {message}") };
            if id.is_none() {
                return Err(if map.contains_key("result") || map.contains_key("error") {
                    refuse("a response needs the `id` of its request")
                } else {
                    invalid(Value::Null, "neither a request (no `method`) nor a response (no `id`)")
                });
            }
            if map.contains_key("result") == map.contains_key("error") {
                return Err(refuse("a response has exactly one of `result` and `error`"));
            }
            serde_json::from_str::<tower_lsp_server::jsonrpc::Response>(text)
                .map(drop)
                .map_err(|e| refuse(&e.to_string()))
        }
    }
}

/// Frames read from a byte stream, resynchronising on `Content-Length:` headers.
struct Frames<R> {
    input: R,
    buf: Vec<u8>,
    eof: bool,
}

impl<R: AsyncRead + Unpin> Frames<R> {
    /// Reads more input into the buffer; false at the end of the input.
    async fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 64 << 10];
        match self.input.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Drops the first `n` bytes of the buffer, logging what was not whitespace.
    fn skip(&mut self, n: usize, why: &str) {
        let n = n.min(self.buf.len());
        if self.buf[..n].iter().any(|b| !b.is_ascii_whitespace()) {
            tracing::error!(bytes = n, "skipped input: {why}");
        }
        self.buf.drain(..n);
    }

    /// The next frame's body (which may be anything: the caller checks it); `None` at the end of
    /// the input.
    async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            // 1. The next `Content-Length` header; what comes before it is garbage (or headers
            //    such as `Content-Type`, which change nothing here).
            let Some(at) = find_ci(&self.buf, b"content-length", 0) else {
                // Keep a tail that may be the start of a header cut by the read.
                let keep = self.buf.len().min(b"content-length".len() - 1);
                self.skip(self.buf.len() - keep, "no Content-Length header");
                if !self.fill().await {
                    return None;
                }
                continue;
            };
            self.skip(at, "bytes before a Content-Length header");
            // 2. The header block ends at an empty line; its last Content-Length counts.
            let Some((length, body_at)) = header_block(&self.buf) else {
                if self.buf.len() > MAX_HEADER {
                    self.skip(1, "a header block that never ends");
                    continue;
                }
                if !self.fill().await {
                    return None;
                }
                continue;
            };
            let Some(length) = length else {
                self.skip(body_at, "a header block without a valid Content-Length");
                continue;
            };
            // 3. The body: `length` bytes, unless the next frame's header comes first.
            let mut scanned = body_at;
            loop {
                let have = self.buf.len();
                let end = body_at.saturating_add(length);
                let limit = have.min(end.saturating_add(HEADER_LINE_MAX));
                if let Some(cut) =
                    embedded_header(&self.buf[..limit], scanned.saturating_sub(HEADER_LINE_MAX).max(body_at))
                {
                    if cut < end {
                        tracing::error!(claimed = length, got = cut - body_at, "a frame cut short by the next header");
                        let body = self.buf[body_at..cut].to_vec();
                        self.buf.drain(..cut);
                        return Some(body);
                    }
                }
                if have >= end {
                    let body = self.buf[body_at..end].to_vec();
                    self.buf.drain(..end);
                    return Some(body);
                }
                scanned = have;
                if !self.fill().await {
                    tracing::error!(claimed = length, got = have - body_at, "the input ended inside a frame");
                    return None;
                }
            }
        }
    }
}

/// The longest `Content-Length: N` line the body scan looks for across a read boundary.
const HEADER_LINE_MAX: usize = 48;

/// Where a `Content-Length: <digits>` line starts in `buf[from..]`: a header, which no JSON body
/// holds (the digits are followed by a raw line break).
fn embedded_header(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = find_ci(buf, b"content-length:", at) {
        let rest = &buf[i + b"content-length:".len()..];
        let value = rest.iter().position(|b| *b != b' ' && *b != b'\t').unwrap_or(rest.len());
        let digits = rest[value..].iter().take_while(|b| b.is_ascii_digit()).count();
        let after = &rest[value + digits..];
        let after = &after[after.iter().position(|b| *b != b' ' && *b != b'\t').unwrap_or(after.len())..];
        if digits > 0 && matches!(after.first(), Some(b'\r' | b'\n')) {
            return Some(i);
        }
        at = i + 1;
    }
    None
}

/// The header block at the start of `buf`: its Content-Length (`None` inside when it has no
/// valid one) and where the body starts; `None` while the block has not ended.
fn header_block(buf: &[u8]) -> Option<(Option<usize>, usize)> {
    let mut length = None;
    let mut at = 0;
    while let Some(nl) = buf[at..].iter().position(|b| *b == b'\n') {
        let line = &buf[at..at + nl];
        at += nl + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|b| *b == b'\r') {
            return Some((length, at));
        }
        // A line may hold the remains of a broken header before a real one: the last counts.
        let mut last = None;
        let mut from = 0;
        while let Some(i) = find_ci(line, b"content-length", from) {
            last = Some(i);
            from = i + 1;
        }
        if let Some(i) = last {
            let rest = &line[i + b"content-length".len()..];
            length = rest
                .strip_prefix(b":")
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|v| v.trim().parse::<usize>().ok());
        }
    }
    None
}

/// The first case-insensitive occurrence of the ASCII `needle` in `hay[from..]`.
fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if hay.len() < needle.len() || from > hay.len() - needle.len() {
        return None;
    }
    let first = needle[0].to_ascii_lowercase();
    (from..=hay.len() - needle.len())
        .find(|&i| hay[i].to_ascii_lowercase() == first && hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// Frames the server writes itself, beside the codec: diagnostics serialised straight from their
/// structs to the wire (the codec's path goes through `serde_json::Value` maps, which costs more
/// than the whole re-check of a 20,000-word scene).
#[derive(Clone)]
pub struct Wire {
    tx: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
    stash: std::sync::Arc<std::sync::Mutex<Stash>>,
    backlog: std::sync::Arc<Backlog>,
}

/// The bytes of the Wire's frames not yet handed to the output, and who waits for them to drain.
#[derive(Default)]
struct Backlog {
    bytes: std::sync::atomic::AtomicUsize,
    drained: tokio::sync::Notify,
}

/// How many bytes of the Wire's frames may wait for the output before [`Wire::room`] holds its
/// caller back.
const BACKLOG: usize = 256 << 10;

/// Results serialised by their handler, waiting for the codec's response that carries their
/// stand-in (see [`Wire::stash`]).
struct Stash {
    /// Makes the stand-ins of this process unlike any text a writer types.
    nonce: String,
    next: u64,
    results: std::collections::BTreeMap<u64, Vec<u8>>,
}

/// How the stand-in of a stashed result starts: `showrunner-wire:NONCE-KEY`.
const STAND_IN: &str = "showrunner-wire:";

impl Stash {
    fn new() -> Stash {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        Stash { nonce: format!("{:x}{nanos:x}", std::process::id()), next: 0, results: Default::default() }
    }

    /// The codec's response `body`, its result swapped for the stashed one when it is a
    /// stand-in's response (small, and naming a key this stash holds).
    fn swap(&mut self, body: Vec<u8>) -> Vec<u8> {
        if body.len() > 1024 || self.results.is_empty() {
            return body;
        }
        let marker = format!("{STAND_IN}{}-", self.nonce);
        let Some(at) = body.windows(marker.len()).position(|w| w == marker.as_bytes()) else { return body };
        let digits = body[at + marker.len()..].iter().take_while(|b| b.is_ascii_digit()).count();
        let key =
            std::str::from_utf8(&body[at + marker.len()..at + marker.len() + digits]).ok().and_then(|k| k.parse().ok());
        let Some(result) = key.and_then(|k| self.results.remove(&k)) else { return body };
        let Ok(response) = serde_json::from_slice::<Value>(&body) else { return body };
        let (Some(id), Some(_)) = (response.get("id"), response.get("result")) else { return body };
        let mut out = Vec::with_capacity(result.len() + 64);
        out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
        out.extend_from_slice(id.to_string().as_bytes());
        out.extend_from_slice(br#","result":"#);
        out.extend_from_slice(&result);
        out.push(b'}');
        out
    }
}

impl Wire {
    /// Serialises a request's `result` straight from its structs, as [`Wire::notify`] does for
    /// notifications, and returns the stand-in to put in the handler's answer instead: a URI
    /// (`showrunner-wire:…`) that the answer holds once (a `Location` of it, say). The codec
    /// still sends the response — in its turn, with its id and its cancellation rules — and the
    /// mux swaps its `result` for the stashed one on the way out. For answers of thousands of
    /// items, whose trip through `serde_json::Value` maps costs more than finding them.
    /// `None` when the result cannot be serialised (answer it the usual way then).
    pub fn stash<T: serde::Serialize>(&self, result: &T) -> Option<tower_lsp_server::ls_types::Uri> {
        let body = serde_json::to_vec(result).ok()?;
        let mut stash = self.stash.lock().ok()?;
        let key = stash.next;
        stash.next += 1;
        let uri = format!("{STAND_IN}{}-{key}", stash.nonce).parse().ok()?;
        stash.results.insert(key, body);
        // A response the codec never sent (its request cancelled meanwhile) leaves its result
        // behind: keep the newest few.
        while stash.results.len() > 8 {
            stash.results.pop_first();
        }
        Some(uri)
    }

    /// Sends a body as it is (an error response the guard made).
    pub fn send_body(&self, body: Vec<u8>) {
        self.queue(body);
    }

    fn queue(&self, body: Vec<u8>) -> bool {
        let n = body.len();
        self.backlog.bytes.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        let sent = self.tx.send(body).is_ok();
        if !sent {
            self.backlog.bytes.fetch_sub(n, std::sync::atomic::Ordering::Relaxed);
        }
        sent
    }

    /// Waits until no more than [`BACKLOG`] bytes of this Wire's frames wait for the output (or
    /// the output is gone). A flood of diagnostics then goes out at the pace the client reads,
    /// and whatever is sent next (an edit's diagnostics) waits behind a quarter megabyte at most,
    /// not behind everything sent before it; the queue's memory stays that small too.
    pub async fn room(&self) {
        loop {
            let drained = self.backlog.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.backlog.bytes.load(std::sync::atomic::Ordering::Relaxed) <= BACKLOG || self.tx.is_closed() {
                return;
            }
            drained.await;
        }
    }

    /// Sends a notification whose `params` serialise directly.
    pub fn notify<P: serde::Serialize>(&self, method: &str, params: &P) -> bool {
        #[derive(serde::Serialize)]
        struct Note<'a, P> {
            jsonrpc: &'static str,
            method: &'a str,
            params: &'a P,
        }
        match serde_json::to_vec(&Note { jsonrpc: "2.0", method, params }) {
            Ok(body) => self.queue(body),
            Err(e) => {
                tracing::error!("cannot serialise {method}: {e}");
                false
            }
        }
    }
}

/// Standard input read on a thread of its own (for the same reason as [`stdout_frames`]: tokio's
/// `stdin` reads on the blocking pool), as an `AsyncRead` for the guard.
pub fn stdin_chunks() -> ChannelReader {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let spawned = std::thread::Builder::new().name("stdin".into()).spawn(move || {
        use std::io::Read;
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match input.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start the stdin thread: {e}");
    }
    ChannelReader { rx, chunk: Vec::new(), at: 0 }
}

/// The bytes sent over a channel, read as a stream; the end of the channel is the end of input.
pub struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl AsyncRead for ChannelReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        while self.at == self.chunk.len() {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.remaining().min(self.chunk.len() - self.at);
        let at = self.at;
        buf.put_slice(&self.chunk[at..at + n]);
        self.at += n;
        Poll::Ready(Ok(()))
    }
}

/// Standard output on a thread of its own, fed whole frames. Tokio's `stdout` runs every write
/// and every flush as a task on the blocking pool; under bursts of diagnostics the pool kept
/// starting threads, and the server's resident memory grew with them over a long session. The
/// channel is bounded: a client that stops reading holds the server's writers back, as a full
/// pipe did.
pub fn stdout_frames() -> tokio::sync::mpsc::Sender<Vec<u8>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let spawned = std::thread::Builder::new().name("stdout".into()).spawn(move || {
        use std::io::Write;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        while let Some(frame) = rx.blocking_recv() {
            if out.write_all(&frame).and_then(|()| out.flush()).is_err() {
                return;
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start the stdout thread: {e}");
    }
    tx
}

/// Merges the codec's frames (`from_codec`) and the [`Wire`]'s into `output`, one whole frame at
/// a time. Returns when the codec's side closes.
///
/// The codec's frames are read by a task of their own and handed over whole: reading a frame
/// inside a `select!` that a Wire frame can win drops the bytes read so far (`read_line` and
/// `read_to_end` are not cancel-safe), which lost responses and left the stream out of step
/// in long sessions. Only channel receives, which are cancel-safe, race here.
pub fn mux<R>(
    from_codec: R,
    output: tokio::sync::mpsc::Sender<Vec<u8>>,
) -> (Wire, impl std::future::Future<Output = ()>)
where
    R: AsyncRead + Unpin + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let stash = std::sync::Arc::new(std::sync::Mutex::new(Stash::new()));
    let stashed = stash.clone();
    let backlog = std::sync::Arc::new(Backlog::default());
    let queued = backlog.clone();
    let task = async move {
        // Whoever waits for room is let go when the output ends.
        struct Release(std::sync::Arc<Backlog>);
        impl Drop for Release {
            fn drop(&mut self) {
                self.0.drained.notify_waiters();
            }
        }
        let _release = Release(queued.clone());
        let (codec_tx, mut codec_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        tokio::spawn(async move {
            let mut reader = BufReader::new(from_codec);
            while let Some(body) = read_frame(&mut reader).await {
                if codec_tx.send(body).await.is_err() {
                    return;
                }
            }
        });
        loop {
            let (body, wired) = tokio::select! {
                frame = codec_rx.recv() => match frame {
                    Some(body) => match stashed.lock() {
                        Ok(mut stash) => (stash.swap(body), false),
                        Err(_) => (body, false),
                    },
                    None => return,
                },
                Some(body) = rx.recv() => (body, true),
            };
            let n = body.len();
            if output.send(frame_bytes(&body)).await.is_err() {
                return;
            }
            if wired {
                let before = queued.bytes.fetch_sub(n, std::sync::atomic::Ordering::Relaxed);
                if before > BACKLOG && before - n <= BACKLOG {
                    queued.drained.notify_waiters();
                }
            }
        }
    };
    (Wire { tx, stash, backlog }, task)
}

/// One frame of the codec's own output (well-formed: no resynchronising needed).
async fn read_frame<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse::<usize>().ok();
            }
        }
    }
    let length = length?;
    let mut body = Vec::new();
    match reader.take(length as u64).read_to_end(&mut body).await {
        Ok(n) if n == length => Some(body),
        _ => None,
    }
}

/// A frame as it goes on the wire: header and body.
fn frame_bytes(body: &[u8]) -> Vec<u8> {
    let header = format!("Content-Length: {}\r\n\r\n", body.len());
    let mut frame = Vec::with_capacity(header.len() + body.len());
    frame.extend_from_slice(header.as_bytes());
    frame.extend_from_slice(body);
    frame
}

async fn write_frame<W: AsyncWrite + Unpin>(output: &mut W, body: &[u8]) -> std::io::Result<()> {
    output.write_all(&frame_bytes(body)).await?;
    output.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// The bodies passed on and the error responses, for `input`.
    async fn run(input: &[u8]) -> (Vec<Value>, Vec<Value>) {
        let mut out = Vec::new();
        let replies = Arc::new(Mutex::new(Vec::new()));
        let r = replies.clone();
        guard(input, &mut out, move |b| r.lock().unwrap().push(serde_json::from_slice::<Value>(&b).unwrap())).await;
        let mut bodies = Vec::new();
        let mut reader = BufReader::new(&out[..]);
        while let Some(b) = read_frame(&mut reader).await {
            bodies.push(serde_json::from_slice(&b).unwrap());
        }
        let replies = replies.lock().unwrap().clone();
        (bodies, replies)
    }

    fn frame(body: &str) -> Vec<u8> {
        frame_bytes(body.as_bytes())
    }

    const GOOD: &str = r#"{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{}}"#;

    fn good() -> Value {
        serde_json::from_str(GOOD).unwrap()
    }

    /// Found by `fuzz/lsp_frames` (reproducer in `fuzz/regressions/lsp_frames/`): the body buffer
    /// was allocated at the claimed length up front, so `Content-Length: 11111511111` asked for
    /// 11 GB (the fuzzer's allocator limit) and `usize::MAX` panicked with a capacity overflow.
    #[tokio::test]
    async fn a_huge_content_length_allocates_nothing_up_front() {
        for length in ["11111511111", "18446744073709551615", "000000000000000000000000092"] {
            let mut input = frame(GOOD);
            input.extend_from_slice(format!("Content-Length: {length}\r\n\r\n{{}}").as_bytes());
            let (bodies, replies) = run(&input).await;
            assert_eq!(bodies, [good()], "{length}: the frame before passes, then EOF ends the session");
            assert!(replies.is_empty(), "{replies:?}");
        }
    }

    #[tokio::test]
    async fn json_that_is_no_message_is_answered_and_the_next_request_passes() {
        let cases = [
            ("{}", json!(null), -32600),
            ("[]", json!(null), -32600),
            (r#"[{"jsonrpc":"2.0","id":1,"method":"x"}]"#, json!(null), -32600),
            (r#"{"jsonrpc":"2.0","id":{},"x":1}"#, json!(null), -32600),
            (r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#, json!(null), -32600),
            (r#"{"jsonrpc":"1.0","id":3,"method":"x"}"#, json!(3), -32600),
            (r#"{"id":"a","method":"x"}"#, json!("a"), -32600),
            (r#"{"jsonrpc":"2.0","id":4,"method":5}"#, json!(4), -32600),
            (r#"{"jsonrpc":"2.0","id":5,"method":""}"#, json!(5), -32600),
            (r#"{"jsonrpc":"2.0","id":6,"method":"x","params":"bar"}"#, json!(6), -32600),
            (r#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":8,"method":"x"}"#, json!(8), -32600),
            (r#"{"jsonrpc":"2.0"}"#, json!(null), -32600),
            ("not json", json!(null), -32700),
            ("", json!(null), -32700),
            ("\u{feff}{}", json!(null), -32700),
            ("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"x\",\"params\":{\"t\":\"\u{fffd}\"", json!(null), -32700),
        ];
        for (bad, id, code) in cases {
            let mut input = frame(bad);
            input.extend_from_slice(&frame(GOOD));
            let (bodies, replies) = run(&input).await;
            assert_eq!(bodies, [good()], "after {bad:?}");
            assert_eq!(replies.len(), 1, "after {bad:?}: {replies:?}");
            assert_eq!(replies[0]["id"], id, "{bad:?}: {}", replies[0]);
            assert_eq!(replies[0]["error"]["code"], code, "{bad:?}: {}", replies[0]);
            assert_eq!(replies[0]["jsonrpc"], "2.0");
        }
        // Bytes that are not UTF-8.
        let mut input = frame_bytes(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[\"\xff\xfe\"]}");
        input.extend_from_slice(&frame(GOOD));
        let (bodies, replies) = run(&input).await;
        assert_eq!(bodies, [good()]);
        assert_eq!(replies[0]["error"]["code"], -32700, "{replies:?}");
    }

    #[tokio::test]
    async fn a_malformed_response_is_dropped_without_an_answer() {
        for bad in [
            r#"{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"{"jsonrpc":"2.0","result":null}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":"x"}}"#,
        ] {
            let mut input = frame(bad);
            input.extend_from_slice(&frame(GOOD));
            let (bodies, replies) = run(&input).await;
            assert_eq!(bodies, [good()], "after {bad:?}");
            assert!(replies.is_empty(), "{bad:?}: {replies:?}");
        }
        let answer = r#"{"jsonrpc":"2.0","id":1,"result":{"applied":true}}"#;
        let (bodies, replies) = run(&frame(answer)).await;
        assert_eq!(bodies.len(), 1, "a well-formed response passes: {replies:?}");
    }

    #[tokio::test]
    async fn framing_resynchronises_on_the_next_header() {
        let msg = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        // Too short: the rest of the body is garbage before the next header.
        let mut input = format!("Content-Length: 10\r\n\r\n{msg}").into_bytes();
        input.extend_from_slice(&frame(GOOD));
        let (bodies, replies) = run(&input).await;
        assert_eq!(bodies, [good()]);
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0]["error"]["code"], -32700);
        // Too long: the body is cut where the next header starts, and is whole.
        let mut input = format!("Content-Length: {}\r\n\r\n{msg}", msg.len() + 500).into_bytes();
        input.extend_from_slice(&frame(GOOD));
        let (bodies, replies) = run(&input).await;
        assert_eq!(bodies, [serde_json::from_str::<Value>(msg).unwrap(), good()], "{replies:?}");
        // No length, a bad length, a header cut short, garbage and a Content-Type in between.
        for junk in [
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n",
            "Content-Length: x\r\n\r\n",
            "Content-Length: 12",
            "Content-Le",
            "garbage \u{1F600} Zoë\r\n\r\n",
            "Content-Length: 5\r\n",
            "\r\n\r\n\n",
        ] {
            let mut input = junk.as_bytes().to_vec();
            input.extend_from_slice(&frame(GOOD));
            let (bodies, _) = run(&input).await;
            assert_eq!(bodies, [good()], "after {junk:?}");
        }
        // A Content-Type header before the length and bare `\n` line ends are taken.
        let input = format!(
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\nContent-Length: {}\n\n{GOOD}",
            GOOD.len()
        );
        assert_eq!(run(input.as_bytes()).await.0, [good()]);
    }

    #[tokio::test]
    async fn a_body_may_hold_header_text_inside_its_strings() {
        let body = json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "text": "Content-Length: 5\r\n\r\nContent-Length: 12\n" } })
        .to_string();
        let (bodies, replies) = run(&frame(&body)).await;
        assert_eq!(bodies, [serde_json::from_str::<Value>(&body).unwrap()], "{replies:?}");
    }

    /// A stashed result replaces its stand-in's in the codec's response, once, keeping the id
    /// (a number or a string); other responses, and a stand-in this process did not make, pass as
    /// they are.
    #[tokio::test]
    async fn a_stashed_result_goes_out_in_its_stand_in_s_response() {
        let (codec, from_codec) = tokio::io::duplex(1 << 16);
        let (out, mut frames) = tokio::sync::mpsc::channel(16);
        let (wire, task) = mux(from_codec, out);
        tokio::spawn(task);
        let result =
            vec![json!({ "uri": "file:///z/Zo%C3%AB.md", "range": { "start": { "line": 1, "character": 2 } } }); 3];
        let first = wire.stash(&result).unwrap();
        let second = wire.stash(&json!("李雷")).unwrap();
        assert_ne!(first, second);
        let mut codec = codec;
        let responses = [
            json!({ "jsonrpc": "2.0", "result": [{ "uri": first.as_str(), "range": {} }], "id": 7 }),
            json!({ "jsonrpc": "2.0", "result": [{ "uri": first.as_str() }], "id": 8 }),
            json!({ "jsonrpc": "2.0", "result": { "changes": { second.as_str(): [] } }, "id": "a-9" }),
            json!({ "jsonrpc": "2.0", "result": "showrunner-wire:0-0", "id": 10 }),
        ];
        for r in &responses {
            codec.write_all(&frame(&r.to_string())).await.unwrap();
        }
        let mut got = Vec::new();
        for _ in 0..responses.len() {
            let bytes = frames.recv().await.unwrap();
            let mut reader = BufReader::new(&bytes[..]);
            got.push(serde_json::from_slice::<Value>(&read_frame(&mut reader).await.unwrap()).unwrap());
        }
        assert_eq!(got[0], json!({ "jsonrpc": "2.0", "id": 7, "result": result }));
        // Taken once: the same stand-in again passes as it is.
        assert_eq!(got[1], responses[1]);
        assert_eq!(got[2], json!({ "jsonrpc": "2.0", "id": "a-9", "result": "李雷" }));
        assert_eq!(got[3], responses[3]);
    }
}
