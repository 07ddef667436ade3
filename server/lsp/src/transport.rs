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
        let mut length: Option<usize> = None;
        let mut saw_header = false;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if saw_header {
                    break;
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
        let Some(length) = length else {
            tracing::error!("dropped a message without a valid Content-Length header");
            continue;
        };
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let body = if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() {
            body
        } else {
            tracing::error!(bytes = length, "dropped a message whose body is not JSON");
            PLACEHOLDER.to_vec()
        };
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        if output.write_all(header.as_bytes()).await.is_err() || output.write_all(&body).await.is_err() {
            return;
        }
        let _ = output.flush().await;
    }
}
