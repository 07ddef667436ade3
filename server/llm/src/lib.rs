//! Model servers: any OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp, LM Studio, a LiteLLM
//! proxy, hosted APIs).
//!
//! - [`client`]: `/v1/chat/completions` streamed over SSE, `/v1/models`, retries with backoff on
//!   429/5xx (honouring `Retry-After`), timeouts, cancellation, usage from any chunk;
//! - [`limits`]: a provider's `max_concurrency`, `rpm` and `tpm`, kept by this process's calls;
//! - [`sse`]: the event-stream parser; [`think`]: reasoning split from the answer;
//!   [`repair`]: lenient JSON for steps that expect JSON.
//!
//! API keys are read from the environment variable a provider names, at request time; they are
//! never stored, logged, or put in an error message.

pub mod client;
pub mod limits;
pub mod repair;
pub mod sse;
pub mod think;

pub use client::{Cancel, ChatRequest, Client, Completion, Delta, Endpoint, LlmError, Message, RetryPolicy, Usage};
pub use limits::Limits;
