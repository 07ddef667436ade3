//! A provider's limits, kept by every call this process makes to it: at most `max_concurrency`
//! requests at once, `rpm` requests and `tpm` tokens in any 60 seconds. A call waits for its turn
//! (cancellably) instead of drawing a 429; one attempt is one request. Per process: workers in
//! other processes keep their own count (a proxy such as LiteLLM enforces a shared one).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::client::{Cancel, LlmError};

/// A provider's limits (`providers.NAME.{max_concurrency, rpm, tpm}` in showrunner.yaml).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_concurrency: Option<u32>,
    /// Requests per minute.
    pub rpm: Option<u32>,
    /// Tokens per minute (a request counts its prompt's characters / 4 and its answer's cap).
    pub tpm: Option<u32>,
}

impl Limits {
    pub fn none(&self) -> bool {
        *self == Limits::default()
    }
}

const MINUTE: Duration = Duration::from_secs(60);

struct Gate {
    limits: Limits,
    running: Option<Arc<Semaphore>>,
    /// Requests of the last minute: when each started and its tokens.
    recent: Mutex<VecDeque<(Instant, u64)>>,
}

static GATES: LazyLock<Mutex<HashMap<String, Arc<Gate>>>> = LazyLock::new(Default::default);

/// A request's turn: held while it runs (the concurrency slot is given back when dropped).
pub struct Turn {
    _slot: Option<OwnedSemaphorePermit>,
}

/// Waits until a request of `tokens` to the provider keyed `key` is within `limits`.
pub async fn turn(key: &str, limits: Limits, tokens: u64, cancel: &Cancel) -> Result<Turn, LlmError> {
    if limits.none() {
        return Ok(Turn { _slot: None });
    }
    let gate = {
        let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
        let g = gates.entry(key.to_string()).or_insert_with(|| Arc::new(Gate::new(limits)));
        if g.limits != limits {
            // The config changed: new limits from now on.
            *g = Arc::new(Gate::new(limits));
        }
        g.clone()
    };
    let slot = match &gate.running {
        Some(s) => Some(tokio::select! {
            p = s.clone().acquire_owned() => p.map_err(|_| LlmError::Cancelled)?,
            _ = cancel.cancelled() => return Err(LlmError::Cancelled),
        }),
        None => None,
    };
    loop {
        let wait = {
            let mut recent = gate.recent.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            while recent.front().is_some_and(|(t, _)| now.duration_since(*t) >= MINUTE) {
                recent.pop_front();
            }
            let requests_ok = limits.rpm.is_none_or(|rpm| recent.len() < rpm as usize);
            let used: u64 = recent.iter().map(|(_, n)| n).sum();
            // A request larger than the whole minute's allowance still goes, alone.
            let tokens_ok = limits.tpm.is_none_or(|tpm| recent.is_empty() || used + tokens <= u64::from(tpm));
            if requests_ok && tokens_ok {
                recent.push_back((now, tokens));
                None
            } else {
                recent.front().map(|(t, _)| (*t + MINUTE).saturating_duration_since(now))
            }
        };
        match wait {
            None => return Ok(Turn { _slot: slot }),
            Some(d) => tokio::select! {
                _ = tokio::time::sleep(d.max(Duration::from_millis(1))) => {}
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
            },
        }
    }
}

impl Gate {
    fn new(limits: Limits) -> Gate {
        Gate {
            limits,
            running: limits.max_concurrency.map(|n| Arc::new(Semaphore::new(n.max(1) as usize))),
            recent: Mutex::new(VecDeque::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_requests_at_once_than_max_concurrency() {
        let limits = Limits { max_concurrency: Some(2), ..Default::default() };
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (now, most) = (now.clone(), most.clone());
                tokio::spawn(async move {
                    let _turn = turn("test-concurrency", limits, 0, &Cancel::default()).await.unwrap();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    for _ in 0..50 {
                        tokio::task::yield_now().await;
                    }
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_and_tokens_per_minute_wait_for_the_window() {
        let start = tokio::time::Instant::now();
        let rpm = Limits { rpm: Some(3), ..Default::default() };
        for _ in 0..3 {
            turn("test-rpm", rpm, 0, &Cancel::default()).await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        turn("test-rpm", rpm, 0, &Cancel::default()).await.unwrap();
        assert!(start.elapsed() >= MINUTE, "the fourth request waits for the first to leave the minute");

        let start = tokio::time::Instant::now();
        let tpm = Limits { tpm: Some(1000), ..Default::default() };
        turn("test-tpm", tpm, 600, &Cancel::default()).await.unwrap();
        turn("test-tpm", tpm, 400, &Cancel::default()).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        turn("test-tpm", tpm, 1, &Cancel::default()).await.unwrap();
        assert!(start.elapsed() >= MINUTE);
        // Larger than a whole minute's allowance: it goes alone once the window is empty.
        turn("test-tpm", tpm, 5000, &Cancel::default()).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_call_stops_waiting_for_its_turn() {
        let rpm = Limits { rpm: Some(1), ..Default::default() };
        turn("test-cancel", rpm, 0, &Cancel::default()).await.unwrap();
        let cancel = Cancel::default();
        cancel.cancel();
        assert!(matches!(turn("test-cancel", rpm, 0, &cancel).await, Err(LlmError::Cancelled)));
    }
}
