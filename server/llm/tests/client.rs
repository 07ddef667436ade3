//! The model client against a real HTTP server on 127.0.0.1 with scripted behaviour: normal and
//! slow streams, reasoning, errors mid-stream, 429 with Retry-After, 5xx, hangs, truncated JSON,
//! missing keys. No mock of the client: every byte crosses a socket.

use std::time::Duration;

use serde_json::json;
use showrunner_llm::repair::parse_lenient;
use showrunner_llm::{Cancel, ChatRequest, Client, Delta, Endpoint, LlmError, Message, RetryPolicy};
use showrunner_testkit::model_server::{chunk, sse, ModelServer, Reply};

fn endpoint(server: &ModelServer, key_env: Option<&str>) -> Endpoint {
    Endpoint {
        provider: "local".into(),
        base_url: server.url.clone(),
        api_key_env: key_env.map(str::to_string),
        limits: Default::default(),
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "llama3.1".into(),
        messages: vec![Message::system("You write."), Message::user("Zoë?")],
        ..Default::default()
    }
}

fn fast_client() -> Client {
    let mut c = Client::new();
    c.retry =
        RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(50) };
    c.idle_timeout = Duration::from_secs(10);
    c
}

fn run(
    client: &Client,
    ep: &Endpoint,
    req: &ChatRequest,
) -> (Result<showrunner_llm::Completion, LlmError>, Vec<Delta>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut deltas = Vec::new();
    let r = rt.block_on(client.chat(ep, req, &Cancel::default(), &mut |d| deltas.push(d)));
    (r, deltas)
}

#[test]
fn streams_tokens_in_order_with_usage_and_the_key_from_the_environment() {
    let server = ModelServer::start(vec![Reply::tokens(&["The ", "storm ", "came, ", "Zoë 😀."])]);
    std::env::set_var("SR_TEST_KEY_A", "sk-secret-aaaa");
    let (r, deltas) = run(&fast_client(), &endpoint(&server, Some("SR_TEST_KEY_A")), &request());
    let c = r.unwrap();
    assert_eq!(c.text, "The storm came, Zoë 😀.");
    assert_eq!(deltas.len(), 4);
    assert_eq!(c.usage.unwrap().completion_tokens, 4);
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(c.attempts, 1);
    let req = &server.requests()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.body["stream"], true);
    assert_eq!(req.body["model"], "llama3.1");
    assert_eq!(req.body["stream_options"]["include_usage"], true);
    assert_eq!(req.body["messages"][1]["content"], "Zoë?");
    assert_eq!(req.header("authorization"), Some("Bearer sk-secret-aaaa"));
}

#[test]
fn reasoning_is_split_off_even_when_a_tag_is_cut() {
    let server = ModelServer::start(vec![Reply::Stream(vec![
        (Duration::ZERO, chunk(json!({ "reasoning_content": "Plan. " }))),
        (Duration::ZERO, chunk(json!({ "content": "<thi" }))),
        (Duration::ZERO, chunk(json!({ "content": "nk>hidden</th" }))),
        (Duration::ZERO, chunk(json!({ "content": "ink>Visible." }))),
        (Duration::ZERO, "data: [DONE]\n\n".into()),
    ])]);
    let (r, deltas) = run(&fast_client(), &endpoint(&server, None), &request());
    let c = r.unwrap();
    assert_eq!(c.text, "Visible.");
    assert_eq!(c.reasoning, "Plan. hidden");
    assert!(deltas.iter().all(|d| !matches!(d, Delta::Text(t) if t.contains("<"))));
}

#[test]
fn an_error_inside_the_stream_is_an_error() {
    let server = ModelServer::start(vec![Reply::Stream(vec![
        (Duration::ZERO, chunk(json!({ "content": "Half a sen" }))),
        (Duration::ZERO, sse(&json!({ "error": { "message": "model overloaded", "type": "server_error" } }))),
    ])]);
    let (r, deltas) = run(&fast_client(), &endpoint(&server, None), &request());
    let err = r.unwrap_err();
    assert!(matches!(err, LlmError::Stream { .. }), "{err}");
    assert!(err.to_string().contains("model overloaded"));
    assert_eq!(deltas, vec![Delta::Text("Half a sen".into())]);
}

#[test]
fn a_stream_that_is_cut_is_an_error_not_an_empty_success() {
    // Text arrived, then the connection closed with no finish reason and no [DONE]: a failed
    // attempt, made again; what streamed is taken back first.
    let server = ModelServer::start(vec![
        Reply::Cut(vec![(Duration::ZERO, chunk(json!({ "content": "Half" })))]),
        Reply::tokens(&["Whole ", "answer."]),
    ]);
    let (r, deltas) = run(&fast_client(), &endpoint(&server, None), &request());
    let c = r.unwrap();
    assert_eq!(c.text, "Whole answer.");
    assert_eq!(c.attempts, 2);
    assert_eq!(
        deltas,
        vec![Delta::Text("Half".into()), Delta::Retract, Delta::Text("Whole ".into()), Delta::Text("answer.".into())]
    );
    // Cut every time: the run fails, saying how far it got; nothing partial is an answer.
    let cut = || Reply::Cut(vec![(Duration::ZERO, chunk(json!({ "content": "Half" })))]);
    let server = ModelServer::start(vec![cut(), cut(), cut(), cut()]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    let err = r.unwrap_err();
    assert!(matches!(err, LlmError::EndedEarly { tokens: 1, .. }), "{err}");
    assert!(err.to_string().contains("ended early after 1 tokens"), "{err}");
    assert_eq!(server.requests().len(), 4);
    // Nothing at all, cut: the same.
    let server =
        ModelServer::start(vec![Reply::Cut(vec![]), Reply::Cut(vec![]), Reply::Cut(vec![]), Reply::Cut(vec![])]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    assert!(matches!(r, Err(LlmError::EndedEarly { tokens: 0, .. })), "{r:?}");
    // A finish reason without [DONE] is complete; `length` says the answer was cut at the limit.
    let server = ModelServer::start(vec![Reply::Cut(vec![
        (Duration::ZERO, chunk(json!({ "content": "Up to the" }))),
        (
            Duration::ZERO,
            sse(&json!({ "model": "qwen", "choices": [{ "index": 0, "delta": {}, "finish_reason": "length" }] })),
        ),
    ])]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    let c = r.unwrap();
    assert_eq!((c.text.as_str(), c.finish_reason.as_deref()), ("Up to the", Some("length")));
}

#[test]
fn reasoning_opened_in_the_prompt_never_reaches_the_answer() {
    // DeepSeek-R1 distills, QwQ, Qwen3 without a reasoning parser: the chat template opens
    // <think>, so the stream is reasoning, then </think>, then the answer.
    let server = ModelServer::start(vec![Reply::tokens(&[
        "\n Okay, the user wants a scene",
        " with Zoë.\n</th",
        "ink>\n\nThe storm came.",
    ])]);
    let (r, deltas) = run(&fast_client(), &endpoint(&server, None), &request());
    let c = r.unwrap();
    assert_eq!(c.text.trim(), "The storm came.");
    assert_eq!(c.reasoning, "\n Okay, the user wants a scene with Zoë.\n");
    assert!(deltas.contains(&Delta::Retract), "{deltas:?}");
    // Everything streamed as text after the last retraction is the answer.
    let after: String = deltas
        .iter()
        .rev()
        .take_while(|d| **d != Delta::Retract)
        .filter_map(|d| if let Delta::Text(t) = d { Some(t.as_str()) } else { None })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert_eq!(after, c.text);
}

#[test]
fn the_model_that_answered_is_what_the_response_names() {
    let server = ModelServer::start(vec![Reply::Stream(vec![
        (
            Duration::ZERO,
            sse(
                &json!({ "model": "local/qwen2.5-fallback", "choices": [{ "index": 0, "delta": { "content": "Hi" }, "finish_reason": null }] }),
            ),
        ),
        (
            Duration::ZERO,
            sse(
                &json!({ "model": "local/qwen2.5-fallback", "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] }),
            ),
        ),
        (Duration::ZERO, "data: [DONE]\n\n".into()),
    ])]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    assert_eq!(r.unwrap().model.as_deref(), Some("local/qwen2.5-fallback"));
}

#[test]
fn every_form_of_retry_after_is_honoured_and_408_is_retried() {
    // Each reply asks for a pause in another form; the client's own backoff would be 1 ms.
    let limited = |h: &str, v: &str| Reply::Status {
        code: 429,
        headers: vec![(h.into(), v.into())],
        body: "{\"error\":\"slow down\"}".into(),
    };
    let server = ModelServer::start(vec![
        limited("retry-after-ms", "120"),
        limited("llm_provider-retry-after", "0.1"),
        limited("x-ratelimit-reset-requests", "100ms"),
        Reply::status(408, "{\"error\":\"Request timed out\"}"),
        Reply::tokens(&["ok"]),
    ]);
    let mut client = fast_client();
    client.retry.max_attempts = 5;
    client.retry.max_delay = Duration::from_secs(5);
    let (r, _) = run(&client, &endpoint(&server, None), &request());
    assert_eq!(r.unwrap().attempts, 5);
    assert_eq!(server.requests().len(), 5);
}

#[test]
fn a_refused_key_names_the_setting_to_change() {
    // LiteLLM without a database answers a key that is not its master key with this.
    for (code, body) in
        [(400, "{\"error\":{\"message\":\"No connected db.\"}}"), (401, "{\"error\":\"Incorrect API key provided\"}")]
    {
        let server = ModelServer::start(vec![Reply::status(code, body)]);
        std::env::set_var("SR_TEST_KEY_AUTH", "sk-wrong-1234");
        let (r, _) = run(&fast_client(), &endpoint(&server, Some("SR_TEST_KEY_AUTH")), &request());
        let err = r.unwrap_err();
        assert!(matches!(err, LlmError::Auth { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("SR_TEST_KEY_AUTH") && msg.contains("providers.local.api_key_env"), "{msg}");
        assert!(!msg.contains("sk-wrong-1234"), "{msg}");
        assert_eq!(server.requests().len(), 1, "a refused key is not retried");
    }
    // An unrelated 400 stays what it is.
    let server = ModelServer::start(vec![Reply::status(400, "{\"error\":{\"message\":\"unknown model\"}}")]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    assert!(matches!(r, Err(LlmError::Http { status: 400, .. })), "{r:?}");
}

#[test]
fn rate_limits_and_server_errors_are_retried() {
    let server = ModelServer::start(vec![
        Reply::Status {
            code: 429,
            headers: vec![("Retry-After".into(), "0".into())],
            body: "{\"error\":\"slow down\"}".into(),
        },
        Reply::status(503, "busy"),
        Reply::status(502, "bad gateway"),
        Reply::tokens(&["ok"]),
    ]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    let c = r.unwrap();
    assert_eq!(c.text, "ok");
    assert_eq!(c.attempts, 4);
    assert_eq!(server.requests().len(), 4);
    // Out of attempts: the last error, naming the status.
    let server = ModelServer::start(vec![
        Reply::status(500, "a"),
        Reply::status(500, "b"),
        Reply::status(500, "c"),
        Reply::status(500, "d"),
    ]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    let err = r.unwrap_err();
    assert!(err.to_string().contains("answered 500: d"), "{err}");
    // A client error is not retried.
    let server = ModelServer::start(vec![Reply::status(400, "{\"error\":{\"message\":\"unknown model\"}}")]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    assert!(r.unwrap_err().to_string().contains("unknown model"));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn unreachable_servers_name_the_url_and_the_config_key() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let ep = Endpoint {
        provider: "local".into(),
        base_url: format!("http://127.0.0.1:{port}/v1"),
        api_key_env: None,
        limits: Default::default(),
    };
    let (r, _) = run(&fast_client(), &ep, &request());
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains(&format!("http://127.0.0.1:{port}/v1/chat/completions")), "{msg}");
    assert!(msg.contains("providers.local.base_url"), "{msg}");
}

#[test]
fn a_hanging_server_times_out() {
    let server = ModelServer::start(vec![Reply::Hang, Reply::Hang]);
    let mut client = fast_client();
    client.idle_timeout = Duration::from_millis(300);
    client.retry.max_attempts = 2;
    let (r, _) = run(&client, &endpoint(&server, None), &request());
    assert!(matches!(r, Err(LlmError::Timeout { .. })), "{r:?}");
}

#[test]
fn cancelling_stops_the_stream() {
    let tokens: Vec<String> = (0..200).map(|i| format!("t{i} ")).collect();
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let server = ModelServer::start(vec![Reply::slow(&refs, Duration::from_millis(20))]);
    let client = fast_client();
    let ep = endpoint(&server, None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cancel = Cancel::default();
    let c2 = cancel.clone();
    let mut seen = 0;
    let r = rt.block_on(client.chat(&ep, &request(), &cancel, &mut |_| {
        seen += 1;
        if seen == 3 {
            c2.cancel();
        }
    }));
    assert!(matches!(r, Err(LlmError::Cancelled)), "{r:?}");
    assert!(seen < 10, "{seen} tokens arrived after cancelling");
}

#[test]
fn keys_come_only_from_the_environment_and_never_into_errors() {
    let server = ModelServer::start(vec![Reply::status(401, "{\"error\":\"bad key sk-secret-bbbb\"}")]);
    let (r, _) = run(&fast_client(), &endpoint(&server, Some("SR_TEST_KEY_MISSING")), &request());
    let err = r.unwrap_err();
    assert!(matches!(err, LlmError::MissingKey { .. }));
    assert!(err.to_string().contains("SR_TEST_KEY_MISSING"));
    assert!(server.requests().is_empty(), "nothing is sent without the key");
    std::env::set_var("SR_TEST_KEY_B", "sk-secret-bbbb");
    let (r, _) = run(&fast_client(), &endpoint(&server, Some("SR_TEST_KEY_B")), &request());
    let msg = r.unwrap_err().to_string();
    assert!(!msg.contains("sk-secret-bbbb"), "{msg}");
    assert!(msg.contains("[redacted]"), "{msg}");
}

#[test]
fn json_steps_survive_truncated_and_fenced_output() {
    let server = ModelServer::start(vec![
        Reply::tokens(&["```json\n{\"ideas\": [", "\"a lighthouse\", ", "\"a storm", ""]),
        Reply::Json(
            json!({ "choices": [{ "message": { "content": "{\"ok\": true}" }, "finish_reason": "stop" }], "usage": { "prompt_tokens": 3, "completion_tokens": 2 } }),
        ),
    ]);
    let mut req = request();
    req.json = true;
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &req);
    let (v, repaired) = parse_lenient(&r.unwrap().text).unwrap();
    assert!(repaired);
    assert_eq!(v, json!({ "ideas": ["a lighthouse", "a storm"] }));
    assert_eq!(server.requests()[0].body["response_format"]["type"], "json_object");
    // A server that ignores `stream: true` and answers with one JSON object.
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &req);
    let c = r.unwrap();
    assert_eq!(c.text, "{\"ok\": true}");
    assert_eq!(c.usage.unwrap().total_tokens, 5);
}

#[test]
fn models_are_listed() {
    let server = ModelServer::start(vec![]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let models = rt.block_on(fast_client().models(&endpoint(&server, None))).unwrap();
    assert_eq!(models, ["llama3.1", "qwen2.5"]);
}

#[test]
fn garbage_and_invalid_sse_are_clear_errors() {
    // Bytes that are not an event stream at all.
    let garbage = || Reply::Stream(vec![(Duration::ZERO, "\u{0}\u{7f}garbage\r\n\r\n".into())]);
    let server = ModelServer::start(vec![garbage(), garbage(), garbage(), garbage()]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains(&server.url), "names the server: {msg}");
    assert!(msg.contains("ended early after 0 tokens"), "{msg}");
    // Events whose data is not JSON.
    let server = ModelServer::start(vec![Reply::Stream(vec![
        (Duration::ZERO, chunk(json!({ "content": "Fine so far" }))),
        (Duration::ZERO, "data: {\"choices\": [ oops\n\n".into()),
        (Duration::ZERO, "data: [DONE]\n\n".into()),
    ])]);
    let (r, _) = run(&fast_client(), &endpoint(&server, None), &request());
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("a chunk is not JSON"), "{msg}");
}

#[test]
fn a_huge_answer_arrives_whole_and_a_slow_drip_within_the_timeout_is_fine() {
    // 20,000 chunks, about 1 MB of text.
    let piece = "The lamp burned all night over the black water. ";
    let tokens: Vec<&str> = std::iter::repeat_n(piece, 20_000).collect();
    let server = ModelServer::start(vec![Reply::tokens(&tokens)]);
    let (r, deltas) = run(&fast_client(), &endpoint(&server, None), &request());
    let c = r.unwrap();
    assert_eq!(c.text.len(), piece.len() * 20_000);
    assert_eq!(deltas.len(), 20_000);
    // A token every 150 ms with a 1 s idle timeout: slow, but never idle for long.
    let server = ModelServer::start(vec![Reply::slow(&["Slow ", "but ", "steady."], Duration::from_millis(150))]);
    let mut client = fast_client();
    client.idle_timeout = Duration::from_secs(1);
    let (r, _) = run(&client, &endpoint(&server, None), &request());
    assert_eq!(r.unwrap().text, "Slow but steady.");
}
