//! The OpenAI-compatible client.
//!
//! `chat` posts a streaming `/chat/completions` request and hands every delta to a callback as
//! it arrives: answer text (with inline `<think>` reasoning split off), reasoning text
//! (`delta.reasoning` / `delta.reasoning_content`), and usage from whichever chunk carries it.
//! An `error` object inside the stream is an error, never an empty success. Before the first
//! byte of a response, 429 and 5xx answers and dropped connections are retried with exponential
//! backoff (a `Retry-After` header wins); once tokens have streamed, a failure is reported and
//! the caller (a pipeline step) decides. Cancellation is checked between chunks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::sse::SseParser;
use crate::think::{Split, ThinkSplitter};

/// A model server as `showrunner.yaml` configures it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The provider's name (`local`, `openai` …), for messages.
    pub provider: String,
    /// e.g. `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// The environment variable holding the key, if the server needs one.
    pub api_key_env: Option<String>,
    /// What this process's calls keep to ([`crate::limits`]).
    pub limits: crate::limits::Limits,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn system(c: impl Into<String>) -> Message {
        Message { role: "system".into(), content: c.into() }
    }
    pub fn user(c: impl Into<String>) -> Message {
        Message { role: "user".into(), content: c.into() }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    /// The model as the server names it (without the `provider/` prefix).
    pub model: String,
    pub messages: Vec<Message>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    /// Ask for a JSON object (`response_format`); the answer is still repaired if sloppy.
    pub json: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    Text(String),
    Reasoning(String),
    /// Every `Text` passed on so far in this call is void: it was reasoning after all (a
    /// `</think>` with no opening tag), or the attempt broke off and is being made again.
    Retract,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Completion {
    pub text: String,
    pub reasoning: String,
    pub usage: Option<Usage>,
    /// Why the model stopped (`stop`, `length`, `tool_calls` …).
    pub finish_reason: Option<String>,
    /// The model that answered, as the response names it (behind a router or a fallback, not
    /// always the one asked for).
    pub model: Option<String>,
    /// How many attempts it took (1 = no retry).
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("cannot reach the model server at {url} (provider `{provider}`): {reason}; start the server, or change `providers.{provider}.base_url` in showrunner.yaml")]
    Unreachable { provider: String, url: String, reason: String },
    #[error("the model server at {url} answered {status}: {body}")]
    Http { url: String, status: u16, body: String },
    #[error("the model server at {url} reported an error mid-stream: {message}")]
    Stream { url: String, message: String },
    #[error("the model server at {url} sent nothing for {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("the environment variable {var} (named by `providers.{provider}.api_key_env`) is not set")]
    MissingKey { provider: String, var: String },
    #[error("cancelled")]
    Cancelled,
    #[error("the model server at {url} sent something that is not an OpenAI-compatible answer: {detail}")]
    BadResponse { url: String, detail: String },
    #[error("the stream from {url} ended early after {tokens} tokens, with no finish reason and no `[DONE]`")]
    EndedEarly { url: String, tokens: usize },
    #[error("the model server at {url} refused the request ({status}: {body}); {hint}")]
    Auth { url: String, status: u16, body: String, hint: String },
}

/// A cancellation signal shared between the caller and a running request.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Cancel {
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    pub(crate) async fn cancelled(&self) {
        while !self.is_cancelled() {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                break;
            }
            notified.await;
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub retry: RetryPolicy,
    /// Longest wait for the first byte and between two chunks.
    pub idle_timeout: Duration,
}

/// The rustls crypto provider, installed once per process.
fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

enum Attempt {
    Done(Completion),
    /// Worth another try (status or connection failure before any token), after this long.
    Retry(LlmError, Option<Duration>),
    Fail(LlmError),
}

impl Client {
    pub fn new() -> Client {
        install_crypto();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client with the ring provider builds");
        Client { http, retry: RetryPolicy::default(), idle_timeout: Duration::from_secs(120) }
    }

    fn url(endpoint: &Endpoint, path: &str) -> String {
        format!("{}/{}", endpoint.base_url.trim_end_matches('/'), path)
    }

    fn auth(&self, endpoint: &Endpoint, req: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, LlmError> {
        match &endpoint.api_key_env {
            None => Ok(req),
            Some(var) => match std::env::var(var) {
                Ok(key) if !key.is_empty() => Ok(req.bearer_auth(key)),
                _ => Err(LlmError::MissingKey { provider: endpoint.provider.clone(), var: var.clone() }),
            },
        }
    }

    /// The model names the server lists (`GET /models`).
    pub async fn models(&self, endpoint: &Endpoint) -> Result<Vec<String>, LlmError> {
        let url = Self::url(endpoint, "models");
        let req = self.auth(endpoint, self.http.get(&url))?;
        let resp = tokio::time::timeout(self.idle_timeout, req.send())
            .await
            .map_err(|_| LlmError::Timeout { url: url.clone(), seconds: self.idle_timeout.as_secs() })?
            .map_err(|e| LlmError::Unreachable {
                provider: endpoint.provider.clone(),
                url: url.clone(),
                reason: describe(&e),
            })?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        if status >= 400 {
            return Err(LlmError::Http { url, status, body: truncate(&body) });
        }
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| LlmError::BadResponse { url: url.clone(), detail: e.to_string() })?;
        Ok(v["data"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["id"].as_str().map(str::to_string)).collect())
            .unwrap_or_default())
    }

    /// Streams a chat completion, calling `on_delta` for each piece as it arrives.
    pub async fn chat(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
        cancel: &Cancel,
        on_delta: &mut (dyn FnMut(Delta) + Send),
    ) -> Result<Completion, LlmError> {
        let url = Self::url(endpoint, "chat/completions");
        let mut body = json!({
            "model": request.model,
            "messages": request.messages,
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = request.max_tokens {
            body["max_tokens"] = json!(m);
        }
        if request.json {
            body["response_format"] = json!({ "type": "json_object" });
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            if cancel.is_cancelled() {
                return Err(LlmError::Cancelled);
            }
            let mut streamed = false;
            let mut forward = |d: Delta| {
                streamed |= matches!(d, Delta::Text(_));
                on_delta(d)
            };
            let turn = crate::limits::turn(&endpoint.base_url, endpoint.limits, weight(request), cancel).await?;
            let outcome = self.attempt(endpoint, &url, &body, cancel, &mut forward).await;
            drop(turn);
            match outcome {
                Attempt::Done(mut c) => {
                    c.attempts = attempt;
                    return Ok(c);
                }
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e, after) => {
                    if attempt >= self.retry.max_attempts {
                        return Err(e);
                    }
                    // What this attempt streamed does not count: the next one starts over.
                    if streamed {
                        on_delta(Delta::Retract);
                    }
                    let backoff = jitter(self.retry.base_delay.saturating_mul(1 << (attempt - 1).min(16)));
                    let wait = after.unwrap_or(backoff).min(self.retry.max_delay);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                    }
                }
            }
        }
    }

    async fn attempt(
        &self,
        endpoint: &Endpoint,
        url: &str,
        body: &Value,
        cancel: &Cancel,
        on_delta: &mut (dyn FnMut(Delta) + Send),
    ) -> Attempt {
        let req = match self.auth(endpoint, self.http.post(url).json(body)) {
            Ok(r) => r,
            Err(e) => return Attempt::Fail(e),
        };
        let timeout = |url: &str| LlmError::Timeout { url: url.to_string(), seconds: self.idle_timeout.as_secs() };
        let sent = tokio::select! {
            r = tokio::time::timeout(self.idle_timeout, req.send()) => r,
            _ = cancel.cancelled() => return Attempt::Fail(LlmError::Cancelled),
        };
        let mut resp = match sent {
            Err(_) => return Attempt::Retry(timeout(url), None),
            Ok(Err(e)) => {
                let err = LlmError::Unreachable {
                    provider: endpoint.provider.clone(),
                    url: url.to_string(),
                    reason: describe(&e),
                };
                // Nobody listening: say so at once. A dropped connection may be a hiccup.
                return if e.is_connect() { Attempt::Fail(err) } else { Attempt::Retry(err, None) };
            }
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        if status == 408 || status == 429 || status >= 500 {
            let after = retry_after(resp.headers());
            let text = redact(endpoint, resp.text().await.unwrap_or_default());
            return Attempt::Retry(LlmError::Http { url: url.to_string(), status, body: truncate(&text) }, after);
        }
        if status >= 400 {
            let text = redact(endpoint, resp.text().await.unwrap_or_default());
            if let Some(hint) = key_hint(endpoint, status, &text) {
                return Attempt::Fail(LlmError::Auth { url: url.to_string(), status, body: truncate(&text), hint });
            }
            return Attempt::Fail(LlmError::Http { url: url.to_string(), status, body: truncate(&text) });
        }
        let is_json = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));

        let mut sse = SseParser::default();
        let mut think = ThinkSplitter::default();
        let mut out = Completion::default();
        let mut whole = Vec::new();
        let mut done = false;
        // Pieces of answer or reasoning that arrived (for "ended early after N tokens").
        let mut pieces = 0usize;
        let mut emit = |split: Split, out: &mut Completion| {
            if split.retract.is_some() {
                // Reasoning after all: what was passed on as answer so far is void.
                out.text.clear();
                on_delta(Delta::Retract);
            }
            if !split.reasoning.is_empty() {
                out.reasoning.push_str(&split.reasoning);
                on_delta(Delta::Reasoning(split.reasoning));
            }
            if !split.answer.is_empty() {
                out.text.push_str(&split.answer);
                on_delta(Delta::Text(split.answer));
            }
        };
        while !done {
            let chunk = tokio::select! {
                c = tokio::time::timeout(self.idle_timeout, resp.chunk()) => c,
                _ = cancel.cancelled() => return Attempt::Fail(LlmError::Cancelled),
            };
            // A stream that stalls or breaks is a failed attempt, made again from the start.
            let bytes = match chunk {
                Err(_) => return Attempt::Retry(timeout(url), None),
                Ok(Err(e)) => {
                    let err = LlmError::Stream {
                        url: url.to_string(),
                        message: format!("the connection broke after {pieces} tokens: {}", describe(&e)),
                    };
                    return Attempt::Retry(err, None);
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(b))) => b,
            };
            if is_json {
                whole.extend_from_slice(&bytes);
                continue;
            }
            for event in sse.feed(&bytes) {
                if event.data.trim() == "[DONE]" {
                    done = true;
                    break;
                }
                match handle_chunk(&event.data, &mut out, &mut think) {
                    Ok(split) => {
                        pieces += usize::from(!split.answer.is_empty() || !split.reasoning.is_empty());
                        emit(split, &mut out)
                    }
                    Err(problem) => {
                        return Attempt::Fail(LlmError::Stream {
                            url: url.to_string(),
                            message: redact(endpoint, problem.to_string()),
                        })
                    }
                }
            }
        }
        if is_json {
            // A server that ignored `stream: true` answers with one JSON object.
            let v: Value = match serde_json::from_slice(&whole) {
                Ok(v) => v,
                Err(e) => return Attempt::Fail(LlmError::BadResponse { url: url.to_string(), detail: e.to_string() }),
            };
            if let Some(err) = v.get("error") {
                return Attempt::Fail(LlmError::Stream { url: url.to_string(), message: error_message(err) });
            }
            let message = &v["choices"][0]["message"];
            for key in ["reasoning", "reasoning_content"] {
                if let Some(r) = message[key].as_str().filter(|r| !r.is_empty()) {
                    emit(Split { reasoning: r.to_string(), ..Default::default() }, &mut out);
                }
            }
            let content = message["content"].as_str().unwrap_or("");
            emit(think.feed(content), &mut out);
            out.finish_reason = v["choices"][0]["finish_reason"].as_str().map(str::to_string);
            out.model = v["model"].as_str().filter(|m| !m.is_empty()).map(str::to_string);
            out.usage = usage(&v["usage"]);
        } else {
            for event in sse.finish() {
                if event.data.trim() == "[DONE]" {
                    break;
                }
                if let Ok(split) = handle_chunk(&event.data, &mut out, &mut think) {
                    emit(split, &mut out);
                }
            }
        }
        emit(think.finish(), &mut out);
        // Complete only with a finish reason or `[DONE]`: a connection closed before either
        // is a cut answer, whatever it holds, and half a paragraph is never an answer.
        if !is_json && !done && out.finish_reason.is_none() {
            return Attempt::Retry(LlmError::EndedEarly { url: url.to_string(), tokens: pieces }, None);
        }
        Attempt::Done(out)
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

/// What is wrong with a streamed chunk.
#[derive(Debug, thiserror::Error)]
enum ChunkError {
    #[error("a chunk is not JSON ({0}): {1}")]
    NotJson(String, String),
    /// The server put an error in the stream.
    #[error("{0}")]
    Server(String),
}

/// One streamed chunk: its answer text and reasoning, or what is wrong with it.
fn handle_chunk(data: &str, out: &mut Completion, think: &mut ThinkSplitter) -> Result<Split, ChunkError> {
    let v: Value = serde_json::from_str(data).map_err(|e| ChunkError::NotJson(e.to_string(), truncate(data)))?;
    if let Some(err) = v.get("error") {
        return Err(ChunkError::Server(error_message(err)));
    }
    if let Some(u) = usage(&v["usage"]) {
        out.usage = Some(u);
    }
    if out.model.is_none() {
        out.model = v["model"].as_str().filter(|m| !m.is_empty()).map(str::to_string);
    }
    let mut split = Split::default();
    // Chunks with empty `choices` (usage-only) are normal.
    if let Some(choice) = v["choices"].as_array().and_then(|c| c.first()) {
        let delta = &choice["delta"];
        for key in ["reasoning", "reasoning_content"] {
            if let Some(r) = delta[key].as_str() {
                split.reasoning.push_str(r);
            }
        }
        if let Some(c) = delta["content"].as_str() {
            let t = think.feed(c);
            split.answer = t.answer;
            split.reasoning.push_str(&t.reasoning);
            split.retract = t.retract;
        }
        if let Some(f) = choice["finish_reason"].as_str() {
            out.finish_reason = Some(f.to_string());
        }
    }
    Ok(split)
}

/// How long the server asks to wait before the next try, in any of the forms servers and
/// proxies use: `retry-after-ms`, `Retry-After` (seconds), LiteLLM's `llm_provider-retry-after`,
/// and OpenAI's `x-ratelimit-reset-requests` / `-tokens` (`1s`, `6m0s`, `250ms`).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let secs = |v: &str| v.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64);
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()).filter(|m| m.is_finite() && *m >= 0.0) {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    if let Some(d) = get("retry-after").and_then(secs).or_else(|| get("llm_provider-retry-after").and_then(secs)) {
        return Some(d);
    }
    ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"].iter().filter_map(|h| get(h).and_then(go_duration)).max()
}

/// A duration as OpenAI writes it (`1s`, `6m0s`, `1h2m3.5s`, `250ms`), or plain seconds.
fn go_duration(v: &str) -> Option<Duration> {
    if let Ok(s) = v.parse::<f64>() {
        return (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s));
    }
    let mut total = 0.0;
    let mut rest = v;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        total += number * factor;
        rest = &rest[unit_len..];
    }
    Some(Duration::from_secs_f64(total))
}

/// A backoff spread by ±20 %, so clients that failed together do not retry together.
fn jitter(d: Duration) -> Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.subsec_nanos()).unwrap_or(0);
    let spread = 0.8 + f64::from(nanos % 400) / 1000.0;
    d.mul_f64(spread)
}

/// For a refused request whose answer is about the key (or LiteLLM's `No connected db.`, its
/// answer to a key that is not its master key): what to change.
fn key_hint(endpoint: &Endpoint, status: u16, body: &str) -> Option<String> {
    let b = body.to_lowercase();
    let about_key = ["key", "auth", "unauthori", "credential", "token", "no connected db", "permission", "forbidden"]
        .iter()
        .any(|w| b.contains(w));
    if !matches!(status, 400 | 401 | 403) || !(about_key || status == 401) {
        return None;
    }
    let p = &endpoint.provider;
    Some(match &endpoint.api_key_env {
        Some(var) => format!(
            "check the key in the environment variable {var}, named by `providers.{p}.api_key_env` in showrunner.yaml{}",
            if std::env::var_os(var).is_some() { "" } else { " (it is not set)" }
        ),
        None => format!(
            "the server wants a key: set `providers.{p}.api_key_env` in showrunner.yaml to the name of the environment variable that holds it"
        ),
    })
}

fn usage(v: &Value) -> Option<Usage> {
    let p = v["prompt_tokens"].as_u64()?;
    let c = v["completion_tokens"].as_u64().unwrap_or(0);
    Some(Usage { prompt_tokens: p, completion_tokens: c, total_tokens: v["total_tokens"].as_u64().unwrap_or(p + c) })
}

fn error_message(err: &Value) -> String {
    match err {
        Value::String(s) => s.clone(),
        other => other["message"].as_str().map(str::to_string).unwrap_or_else(|| other.to_string()),
    }
}

/// Removes the provider's key from text that came back from the server (some echo headers).
fn redact(endpoint: &Endpoint, text: String) -> String {
    match endpoint.api_key_env.as_ref().and_then(|v| std::env::var(v).ok()).filter(|k| k.len() >= 4) {
        Some(key) => text.replace(&key, "[redacted]"),
        None => text,
    }
}

fn truncate(s: &str) -> String {
    let s = s.trim();
    if s.len() <= 400 {
        return s.to_string();
    }
    let mut cut = 400;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

/// A transport error in words, with its causes ("connection refused" rather than "error sending
/// request").
fn describe(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

/// What a request counts against a `tpm` limit: its messages' characters / 4 and its answer's cap.
fn weight(request: &ChatRequest) -> u64 {
    let chars: usize = request.messages.iter().map(|m| m.content.chars().count()).sum();
    (chars / 4) as u64 + u64::from(request.max_tokens.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_every_form() {
        let headers = |h: &[(&'static str, &str)]| {
            let mut m = reqwest::header::HeaderMap::new();
            for (k, v) in h {
                m.insert(*k, v.parse().unwrap());
            }
            m
        };
        let ms = |n: u64| Some(Duration::from_millis(n));
        assert_eq!(retry_after(&headers(&[("retry-after", "2")])), ms(2000));
        assert_eq!(retry_after(&headers(&[("retry-after-ms", "120")])), ms(120));
        assert_eq!(retry_after(&headers(&[("llm_provider-retry-after", "0.5")])), ms(500));
        assert_eq!(
            retry_after(&headers(&[("x-ratelimit-reset-requests", "1m3s"), ("x-ratelimit-reset-tokens", "250ms")])),
            ms(63_000)
        );
        // The most precise form wins when a proxy sends several.
        assert_eq!(retry_after(&headers(&[("retry-after", "1"), ("retry-after-ms", "1500")])), ms(1500));
        assert_eq!(retry_after(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")])), None);
        assert_eq!(go_duration("1h2m3.5s"), Some(Duration::from_secs_f64(3723.5)));
        assert_eq!(go_duration("soon"), None);
    }

    #[test]
    fn backoff_is_spread_but_bounded() {
        let d = jitter(Duration::from_millis(1000));
        assert!(d >= Duration::from_millis(800) && d <= Duration::from_millis(1200), "{d:?}");
    }
}
