//! A guard in front of the protocol codec: every frame read from stdin is checked to be JSON
//! before the server sees it. The codec underneath stops reading for good after a body it cannot
//! decode; a client that sends one broken message must not lose its server, so a broken body is
//! logged and replaced by a harmless notification, and the session goes on.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// What replaces a frame whose body is not JSON: a notification no one handles.
const PLACEHOLDER: &[u8] = br#"{"jsonrpc":"2.0","method":"$/showrunner/malformedMessage","params":null}"#;

/// Copies LSP frames from `input` to `output`, replacing undecodable bodies. Returns at EOF.
pub async fn guard<R, W>(input: R, mut output: W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(input);
    loop {
        let Some(length) = read_headers(&mut reader).await else { return };
        let Some(length) = length else {
            tracing::error!("dropped a message without a valid Content-Length header");
            continue;
        };
        let Some(body) = read_body(&mut reader, length).await else { return };
        let body = if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() {
            body
        } else {
            tracing::error!(bytes = length, "dropped a message whose body is not JSON");
            PLACEHOLDER.to_vec()
        };
        if write_frame(&mut output, &body).await.is_err() {
            return;
        }
    }
}

/// Reads one frame's header block: `None` at the end of the input, else the `Content-Length`
/// (`None` inside when the block had no valid one).
async fn read_headers<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Option<Option<usize>> {
    let mut length: Option<usize> = None;
    let mut saw_header = false;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_header {
                return Some(length);
            }
            continue;
        }
        saw_header = true;
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok();
            }
        }
    }
}

/// Reads a frame's body. The bytes that are there are read rather than what the header claims
/// allocated: a bogus Content-Length must not take the server's memory before a byte arrives.
async fn read_body<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, length: usize) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    match reader.take(length as u64).read_to_end(&mut body).await {
        Ok(n) if n == length => Some(body),
        _ => None,
    }
}

/// Frames the server writes itself, beside the codec: diagnostics serialised straight from their
/// structs to the wire (the codec's path goes through `serde_json::Value` maps, which costs more
/// than the whole re-check of a 20,000-word scene).
#[derive(Clone)]
pub struct Wire {
    tx: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
}

impl Wire {
    /// Sends a notification whose `params` serialise directly.
    pub fn notify<P: serde::Serialize>(&self, method: &str, params: &P) -> bool {
        #[derive(serde::Serialize)]
        struct Note<'a, P> {
            jsonrpc: &'static str,
            method: &'a str,
            params: &'a P,
        }
        match serde_json::to_vec(&Note { jsonrpc: "2.0", method, params }) {
            Ok(body) => self.tx.send(body).is_ok(),
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
pub fn mux<R>(
    from_codec: R,
    output: tokio::sync::mpsc::Sender<Vec<u8>>,
) -> (Wire, impl std::future::Future<Output = ()>)
where
    R: AsyncRead + Unpin,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let task = async move {
        let mut reader = BufReader::new(from_codec);
        loop {
            let body = tokio::select! {
                frame = read_frame(&mut reader) => match frame {
                    Some(body) => body,
                    None => return,
                },
                Some(body) = rx.recv() => body,
            };
            if output.send(frame_bytes(&body)).await.is_err() {
                return;
            }
        }
    };
    (Wire { tx }, task)
}

async fn read_frame<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Option<Vec<u8>> {
    loop {
        if let Some(length) = read_headers(reader).await? {
            return read_body(reader, length).await;
        }
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

    async fn run(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        guard(input, &mut out).await;
        out
    }

    /// Found by `fuzz/lsp_frames` (reproducer in `fuzz/regressions/lsp_frames/`): the body buffer
    /// was allocated at the claimed length up front, so `Content-Length: 11111511111` asked for
    /// 11 GB (the fuzzer's allocator limit) and `usize::MAX` panicked with a capacity overflow.
    #[tokio::test]
    async fn a_huge_content_length_allocates_nothing_up_front() {
        let ok = b"Content-Length: 2\r\n\r\n{}";
        for length in ["11111511111", "18446744073709551615", "000000000000000000000000092"] {
            let mut input = ok.to_vec();
            input.extend_from_slice(format!("Content-Length: {length}\r\n\r\n{{}}").as_bytes());
            assert_eq!(run(&input).await, ok, "{length}: the frame before passes, then EOF ends the session");
        }
    }
}
