//! Hostile input and vanishing editors, through the real binary: JSON that is no JSON-RPC
//! message, frames whose Content-Length lies, garbage between frames, a seeded storm of all of it
//! — each answered as JSON-RPC prescribes and the session going on; an editor that closes the
//! pipe without `exit` (also mid-run), and one whose process dies with the pipe still open.

use std::time::Duration;

use serde_json::{json, Value};
use showrunner_testkit::model_server::{ModelServer, Reply};
use showrunner_testkit::Client;

use super::bin;

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    f.extend_from_slice(body);
    f
}

/// The error response with `id` (`null` for none) that the server sent for a refused message.
fn refusal(c: &mut Client, id: Value) -> Value {
    c.wait_for(&format!("an error response with id {id}"), |v| {
        v.get("method").is_none() && v["id"] == id && v.get("error").is_some()
    })
}

/// A request that must be answered properly: the session is alive.
fn alive(c: &mut Client, u: &str) {
    let symbols = c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": u } }));
    assert!(symbols.as_array().is_some_and(|s| !s.is_empty()), "{symbols}");
}

#[test]
fn messages_that_are_not_json_rpc_are_answered_and_the_session_goes_on() {
    let (_tmp, dir) = super::example();
    let mut c = Client::spawn(bin(), &[]);
    c.initialize(&[&dir], false);
    let u = c.open(&dir.join("story/ch01/01-arrival.md"), "markdown");
    alive(&mut c, &u);

    for (bad, id, code) in [
        (&b"{}"[..], json!(null), -32600),
        (b"[]", json!(null), -32600),
        (br#"{"jsonrpc":"2.0","id":{},"x":1}"#, json!(null), -32600),
        (br#"{"jsonrpc":"2.0","id":41,"method":7}"#, json!(41), -32600),
        (br#"{"jsonrpc":"2.0","id":"q","method":"textDocument/hover","params":"x"}"#, json!("q"), -32600),
        (b"{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"x\",\"params\":[\"\xff\"]}", json!(null), -32700),
        (b"Zo\xc3\xab \xf0\x9f\x98\x80 is not JSON", json!(null), -32700),
    ] {
        c.send_bytes(&frame(bad));
        let e = refusal(&mut c, id.clone());
        assert_eq!(e["error"]["code"], code, "{}: {e}", String::from_utf8_lossy(bad));
        alive(&mut c, &u);
    }

    // A Content-Length too small: the rest of the body is skipped up to the next header.
    let hover = json!({ "jsonrpc": "2.0", "id": 900, "method": "textDocument/hover",
        "params": { "textDocument": { "uri": u }, "position": { "line": 0, "character": 0 } } })
    .to_string();
    c.send_bytes(format!("Content-Length: 12\r\n\r\n{hover}").as_bytes());
    let e = refusal(&mut c, json!(null));
    assert_eq!(e["error"]["code"], -32700, "{e}");
    alive(&mut c, &u);
    // Too large: the frame ends where the next header starts, and its message is whole.
    c.send_bytes(format!("Content-Length: {}\r\n\r\n{hover}", hover.len() + 4000).as_bytes());
    alive(&mut c, &u);
    let answer = c.wait_for("the answer to the frame with a long Content-Length", |v| v["id"] == 900);
    assert!(answer.get("error").is_none(), "{answer}");
    // Garbage between frames, a header without a length, a header cut short.
    c.send_bytes(b"\xff\xfegarbage\r\n\r\nContent-Type: text/plain\r\n\r\nContent-Len");
    alive(&mut c, &u);
    c.finish();
}

/// A seeded storm of broken and valid frames: every valid request is answered, the broken ones
/// get their error or nothing, and the server ends cleanly.
#[test]
fn a_storm_of_hostile_frames_leaves_a_server_that_answers() {
    let (_tmp, dir) = super::example();
    let mut c = Client::spawn(bin(), &[]);
    c.initialize(&[&dir], false);
    let u = c.open(&dir.join("story/ch01/01-arrival.md"), "markdown");
    let mut seed: u64 = 0x5eed_2026;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let valid = |id: u64| {
        json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/documentSymbol",
            "params": { "textDocument": { "uri": u } } })
        .to_string()
    };
    let shapes: [&dyn Fn(u64) -> Vec<u8>; 10] = [
        &|_| frame(b"{}"),
        &|_| frame(b"[]"),
        &|_| frame(br#"{"jsonrpc":"2.0","id":{},"x":1}"#),
        &|_| frame(br#"{"jsonrpc":"2.0","id":true,"method":"initialize"}"#),
        &|_| frame(br#"{"jsonrpc":"2.0","result":1}"#),
        &|_| frame(b"\x00\x01\x02"),
        &|n| format!("Content-Length: {}\r\n\r\n{{\"jsonrpc\"", n % 7).into_bytes(),
        &|n| format!("Content-Length: {}\r\n\r\n{{\"jsonrpc\":\"2.0\"}}", 100 + n % 50).into_bytes(),
        &|_| b"Content-Length: nope\r\n\r\n".to_vec(),
        &|_| "garbage Łukasz 李雷\n".as_bytes().to_vec(),
    ];
    let mut expected = Vec::new();
    for i in 0..400u64 {
        let r = next();
        if r % 3 == 0 {
            let id = 10_000 + i;
            c.send_bytes(&frame(valid(id).as_bytes()));
            expected.push(id);
        } else {
            c.send_bytes(&shapes[(r % 10) as usize](r >> 8));
        }
    }
    // The last valid request comes after every broken frame, so all are in by its answer.
    alive(&mut c, &u);
    for id in expected {
        let a = c.wait_for(&format!("the answer to {id}"), |v| v["id"] == id && v.get("method").is_none());
        // A valid request right after a frame whose length was too long may be cut into it.
        assert!(a.get("result").is_some() || a["error"]["code"] == -32700, "{a}");
    }
    c.finish();
}

#[test]
fn an_editor_that_closes_the_pipe_without_exit_ends_the_server_and_leaves_its_run_resumable() {
    let tokens: Vec<String> = (0..400).map(|i| format!("word{i} ")).collect();
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let server = ModelServer::start(vec![Reply::slow(&refs, Duration::from_millis(50))]);
    let (_tmp, dir) = super::example();
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml")).unwrap();
    std::fs::write(dir.join("showrunner.yaml"), cfg.replace("http://127.0.0.1:11434/v1", &server.url)).unwrap();
    let scene = dir.join("story/ch01/03-supper.md");
    let before = std::fs::read_to_string(&scene).unwrap();
    let mut c = Client::spawn(bin(), &[]);
    c.initialize(&[&dir], false);
    let u = c.open(&scene, "markdown");
    let run = c.request(
        "workspace/executeCommand",
        json!({ "command": "showrunner.pipeline.run", "arguments": [{ "pipeline": "continue-scene", "uri": u,
            "model": "local/llama3.1" }] }),
    )["run"]
        .as_str()
        .unwrap()
        .to_string();
    let g =
        c.wait_for("the prompt gate", |v| v["method"] == "showrunner/runProgress" && v["params"]["event"] == "gate");
    let step = g["params"]["gate"]["step"].as_str().unwrap().to_string();
    c.request(
        "workspace/executeCommand",
        json!({ "command": "showrunner.gate.resolve", "arguments": [{ "run": run, "step": step, "decision": "approve" }] }),
    );
    c.wait_for("streamed text", |v| v["method"] == "showrunner/runProgress" && v["params"]["event"] == "text");

    // The editor quits without shutdown or exit, mid-stream.
    c.close_input();
    assert_eq!(c.wait_gone(), Some(1), "no `exit` came: the exit code is 1");
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), before, "nothing partial was applied");
    let out = showrunner_testkit::run_binary(bin(), &["runs"], &dir, &[]);
    let runs = showrunner_testkit::output_text(&out);
    let line = runs.lines().find(|l| l.starts_with(&run)).unwrap_or_else(|| panic!("{runs}"));
    assert_eq!(line.split_whitespace().nth(2), Some("interrupted"), "{runs}");
}

#[test]
fn an_editor_whose_process_dies_with_the_pipe_open_ends_the_server() {
    let (_tmp, dir) = super::example();
    let mut editor = std::process::Command::new("sleep").arg("600").spawn().unwrap();
    let mut c = Client::spawn(bin(), &[]);
    c.editor_pid = Some(editor.id());
    c.initialize(&[&dir], false);
    let u = c.open(&dir.join("story/ch01/01-arrival.md"), "markdown");
    alive(&mut c, &u);
    editor.kill().unwrap();
    editor.wait().unwrap();
    // The pipe stays open (the test holds it): only the watch on `processId` can end it.
    assert_eq!(c.wait_gone(), Some(1));
}
