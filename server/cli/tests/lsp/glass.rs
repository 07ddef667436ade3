//! The glass box over stdio, against a scripted OpenAI-compatible server on 127.0.0.1: a rewrite
//! from code action to applied edit with every gate decision, research into the library and the
//! context, an agent calling tools, a gate that outlives a restart, cancellation mid-stream.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use showrunner_testkit::model_server::{ModelServer, Reply};
use showrunner_testkit::{uri, Client};

use super::{bin, command, example_on, position};

fn start(dir: &Path) -> Client {
    let mut c = Client::spawn(bin(), &[("XDG_CONFIG_HOME", dir.join(".no-user-config").to_str().unwrap())]);
    c.initialize(&[dir], false);
    c
}

/// Starts a pipeline run; its id.
fn start_run(c: &mut Client, args: Value) -> String {
    command(c, "showrunner.pipeline.run", args)["run"].as_str().expect("a run id").to_string()
}

fn command_raw(c: &mut Client, name: &str, args: Value) -> Value {
    c.request_raw("workspace/executeCommand", json!({ "command": name, "arguments": [args] }))
}

/// The next `showrunner/runProgress` of `run` with this `event`.
fn progress(c: &mut Client, run: &str, event: &str) -> Value {
    let what = format!("{event} of {run}");
    c.wait_for(&what, |v| {
        v["method"] == "showrunner/runProgress" && v["params"]["run"] == run && v["params"]["event"] == event
    })["params"]
        .clone()
}

/// Waits for the run's next gate; returns `(step, kind, review document path)`. A run that ends
/// instead fails the test with its error.
fn gate(c: &mut Client, run: &str) -> (String, String, PathBuf) {
    let g = c.wait_for(&format!("a gate of {run}"), |v| {
        v["method"] == "showrunner/runProgress"
            && v["params"]["run"] == run
            && (v["params"]["event"] == "gate" || v["params"]["event"] == "done")
    })["params"]
        .clone();
    assert_eq!(g["event"], "gate", "the run ended instead: {g}");
    let u = g["gate"]["uri"].as_str().unwrap().to_string();
    let path = PathBuf::from(u.strip_prefix("file://").unwrap().replace("%20", " "));
    (g["gate"]["step"].as_str().unwrap().into(), g["gate"]["kind"].as_str().unwrap().into(), path)
}

fn resolve(c: &mut Client, run: &str, step: &str, decision: &str, extra: Value) -> Value {
    let mut args = json!({ "run": run, "step": step, "decision": decision });
    if let Value::Object(m) = extra {
        for (k, v) in m {
            args[k] = v;
        }
    }
    command(c, "showrunner.gate.resolve", args)
}

fn last_user_message(r: &showrunner_testkit::model_server::Recorded) -> String {
    r.body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string()
}

const SENTENCE: &str = "The boat stood off, rose, fell, stood off again.";

#[test]
fn a_rewrite_from_code_action_to_applied_edit_with_an_edited_prompt_and_a_model_change() {
    let server = ModelServer::start(vec![
        Reply::tokens(&["The boat ", "hung off the rock, ", "rose and fell."]),
        Reply::tokens(&["The boat held off; ", "rose; fell; held."]),
    ]);
    let (_tmp, dir) = example_on(&server);
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = std::fs::read_to_string(&scene).unwrap();
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    // Line 0 of a scene: the context, then the run lenses.
    let lenses = c.request("textDocument/codeLens", json!({ "textDocument": { "uri": u } }));
    let titles: Vec<&str> = lenses.as_array().unwrap().iter().filter_map(|l| l["command"]["title"].as_str()).collect();
    assert!(titles[0].starts_with("Context: "), "{titles:?}");
    assert_eq!(&titles[1..], ["▶ Draft", "▶ Continue", "▶ Continuity check"]);
    assert_eq!(lenses[1]["command"]["arguments"][0], json!({ "pipeline": "draft-scene", "uri": u }));
    let at = text.find(SENTENCE).unwrap();
    let range = json!({ "start": position(&text, at), "end": position(&text, at + SENTENCE.len()) });
    // The quick actions are code actions on the selection.
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": u }, "range": range, "context": { "diagnostics": [] } }),
    );
    let titles: Vec<&str> = actions.as_array().unwrap().iter().filter_map(|a| a["title"].as_str()).collect();
    for t in ["Rewrite", "Expand", "Tighten", "Continue from here", "Describe", "Research this"] {
        assert!(titles.contains(&format!("Showrunner: {t}").as_str()), "{titles:?}");
    }
    let rewrite = actions.as_array().unwrap().iter().find(|a| a["title"] == "Showrunner: Rewrite").unwrap();
    assert_eq!(rewrite["kind"], "refactor.rewrite");
    let cmd = &rewrite["command"];
    let started = command(&mut c, cmd["command"].as_str().unwrap(), cmd["arguments"][0].clone());
    let run = started["run"].as_str().unwrap().to_string();

    // Gate 1: the prompt, as a review document the client is asked to show.
    let (step, kind, review) = gate(&mut c, &run);
    assert_eq!((step.as_str(), kind.as_str()), ("review", "review_prompt"));
    let shown = c.wait_for("showDocument", |v| v["method"] == "window/showDocument");
    assert_eq!(shown["params"]["uri"], uri(&review));
    let prompt = std::fs::read_to_string(&review).unwrap();
    assert!(prompt.contains(SENTENCE) && prompt.contains("Rewrite this passage"), "{prompt}");
    assert!(review.starts_with(dir.join(".showrunner/runs")));
    // Its lenses are the decisions.
    let lenses = c.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri(&review) } }));
    let lens_titles: Vec<&str> =
        lenses.as_array().unwrap().iter().filter_map(|l| l["command"]["title"].as_str()).collect();
    for t in ["✓ Approve", "Skip", "Change model", "Paste", "Chat", "Regenerate", "✗ Reject"] {
        assert!(lens_titles.contains(&t), "{lens_titles:?}");
    }
    assert!(lens_titles[0].contains("local/llama3.1"), "the gate names the model: {lens_titles:?}");
    let st = command(&mut c, "showrunner.run.status", json!({ "run": run }));
    assert_eq!((st["state"].as_str(), st["gate"]["uri"].as_str()), (Some("waiting"), Some(uri(&review).as_str())));
    let queue = command(&mut c, "showrunner.gate.list", json!({}));
    assert_eq!(queue.as_array().unwrap().len(), 1);
    assert_eq!(queue[0]["kind"], "review_prompt");
    assert_eq!(queue[0]["uri"], uri(&review));
    // The writer edits the prompt in the editor (unsaved) and approves with the lens.
    let edited = format!("{prompt}\nKeep it under twelve words.");
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(&review), "languageId": "markdown", "version": 1, "text": edited } }),
    );
    let approve = lenses.as_array().unwrap().iter().find(|l| l["command"]["title"] == "✓ Approve").unwrap();
    command(&mut c, "showrunner.gate.resolve", approve["command"]["arguments"][0].clone());

    // The answer streams, then gate 2: the output.
    let piece = progress(&mut c, &run, "text");
    assert_eq!(piece["step"], "rewrite");
    let (step, kind, review2) = gate(&mut c, &run);
    assert_eq!((step.as_str(), kind.as_str()), ("approve", "approve_output"));
    assert_eq!(std::fs::read_to_string(&review2).unwrap(), "The boat hung off the rock, rose and fell.");
    let reqs = server.requests();
    assert!(last_user_message(&reqs[0]).ends_with("Keep it under twelve words."), "the edited prompt went out");
    assert_eq!(reqs[0].body["messages"][0]["role"], "system", "the editor agent's system prompt");
    // Change model, picked from the configured models the editor is offered
    // (`window/showMessageRequest`): generated again with it; the gate stays open.
    c.answer("window/showMessageRequest", json!({ "title": "local/mistral-nemo" }));
    let r = resolve(&mut c, &run, "approve", "change_model", json!({}));
    assert_eq!(r["open"], true);
    let asked = c.wait_for("showMessageRequest", |v| v["method"] == "window/showMessageRequest");
    let offered: Vec<&str> =
        asked["params"]["actions"].as_array().unwrap().iter().filter_map(|a| a["title"].as_str()).collect();
    assert!(offered.contains(&"local/llama3.1"), "{offered:?}");
    let (_, _, review3) = gate(&mut c, &run);
    assert_eq!(std::fs::read_to_string(&review3).unwrap(), "The boat held off; rose; fell; held.");
    let chats: Vec<_> = server.requests().into_iter().filter(|r| r.path.ends_with("/chat/completions")).collect();
    assert_eq!(chats[1].body["model"], "mistral-nemo");
    let queue = command(&mut c, "showrunner.gate.list", json!({}));
    assert_eq!(queue[0]["model"], "local/mistral-nemo");
    // The gate shows the edit approving makes: the mode in words and a diff of exactly it.
    let line = text[..at].matches('\n').count() + 1;
    assert_eq!(
        queue[0]["edit"]["description"],
        format!("replaces the selection on line {line} of 01-arrival.md"),
        "{queue}"
    );
    let diff = queue[0]["edit"]["diff"].as_str().unwrap().to_string();
    assert!(diff.contains(&format!("-{}", text.lines().nth(line - 1).unwrap())), "{diff}");
    let lenses = c.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri(&review3) } }));
    assert!(
        lenses[1]["command"]["title"].as_str().unwrap().starts_with("Approving replaces the selection"),
        "{lenses}"
    );
    let shown = command(&mut c, "showrunner.gate.diff", json!({ "run": run, "step": "approve" }));
    assert_eq!(shown["diff"], diff);
    assert!(std::fs::read_to_string(review3.with_extension("diff")).unwrap().ends_with(&diff));

    // The writer types elsewhere in the scene without saving, then approves.
    let typed = "Unsaved: the keeper's note.\n";
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [
            { "range": { "start": { "line": line + 1, "character": 0 }, "end": { "line": line + 1, "character": 0 } }, "text": typed }
        ] }),
    );
    let mut buffer = text.clone();
    let at_typed = buffer.match_indices('\n').nth(line).map(|(i, _)| i + 1).unwrap();
    buffer.insert_str(at_typed, typed);
    resolve(&mut c, &run, "approve", "approve", json!({}));

    // The edit reaches the editor as workspace/applyEdit over exactly the selection, for the
    // buffer's version; nothing is written to the file the writer has open.
    let edit = c.wait_for("applyEdit", |v| v["method"] == "workspace/applyEdit");
    let change = &edit["params"]["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"], json!({ "uri": u, "version": 2 }), "{edit}");
    assert_eq!(change["edits"][0]["range"], range);
    assert_eq!(change["edits"][0]["newText"], "The boat held off; rose; fell; held.");
    let done = progress(&mut c, &run, "done");
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), text, "the file on disk is untouched");
    let history = command(&mut c, "showrunner.history", json!({ "uri": u }));
    assert!(history.as_array().unwrap().iter().all(|e| e["type"] != "apply_edit"), "{history}");
    // The editor applies it to its buffer (version 3); the diff shown is what the buffer got.
    let applied = buffer.replace(SENTENCE, "The boat held off; rose; fell; held.");
    let expected = showrunner_pipeline::edit::apply_unified_diff(&text, &diff).unwrap();
    assert_eq!(expected, text.replace(SENTENCE, "The boat held off; rose; fell; held."));
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 3 }, "contentChanges": [{ "text": applied }] }),
    );
    // The writer saves: the history records the approved edit, then the rest of the save.
    std::fs::write(&scene, &applied).unwrap();
    c.notify("textDocument/didSave", json!({ "textDocument": { "uri": u } }));
    let recorded = progress(&mut c, &run, "recorded");
    assert_eq!(recorded["history_event"], format!("{run}-apply"), "{recorded}");
    let history = command(&mut c, "showrunner.history", json!({ "uri": u }));
    assert_eq!(history[0]["type"], "snapshot", "{history}");
    assert_eq!(history[0]["actor"], "user");
    assert_eq!(history[1]["type"], "apply_edit", "{history}");
    assert_eq!(history[1]["actor"], format!("pipeline:{run}"));
    assert_eq!(history[1]["id"], format!("{run}-apply"));
    // The edit's event holds the approved change alone; the typed line is the writer's snapshot.
    let edit_only = text.replace(SENTENCE, "The boat held off; rose; fell; held.");
    assert_eq!(history[1]["hash"], showrunner_pipeline::edit::text_hash(&edit_only));
    assert_eq!(history[0]["hash"], showrunner_pipeline::edit::text_hash(&applied));
    let status = command(&mut c, "showrunner.run.status", json!({ "run": run }));
    assert_eq!(status["state"], "succeeded");
    let steps: Vec<(&str, &str)> = status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(steps.len(), 6);
    assert!(steps.iter().all(|s| s.1 == "succeeded"), "{steps:?}");
    assert!(command(&mut c, "showrunner.gate.list", json!({})).as_array().unwrap().is_empty());
    c.finish();
}

#[test]
fn chat_skip_regenerate_reject_and_paste_at_gates() {
    let server = ModelServer::start(vec![
        Reply::tokens(&["Rewrite this in the voice of a tired keeper: ", SENTENCE]),
        Reply::tokens(&["First go."]),
        Reply::tokens(&["Second go."]),
    ]);
    let (_tmp, dir) = example_on(&server);
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = std::fs::read_to_string(&scene).unwrap();
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    let at = text.find(SENTENCE).unwrap();
    let range = json!({ "start": position(&text, at), "end": position(&text, at + SENTENCE.len()) });
    let run = start_run(&mut c, json!({ "pipeline": "rewrite-selection", "uri": u, "range": range }));
    let (step, _, review) = gate(&mut c, &run);
    // Chat without text: the `>>` lines of the review document are the message.
    let mut doc = std::fs::read_to_string(&review).unwrap();
    doc.push_str("\n>> make it sound tired\n");
    std::fs::write(&review, &doc).unwrap();
    resolve(&mut c, &run, &step, "chat", json!({}));
    let (step, _, review) = gate(&mut c, &run);
    let revised = std::fs::read_to_string(&review).unwrap();
    assert!(revised.starts_with("Rewrite this in the voice of a tired keeper"), "{revised}");
    let chat = &server.requests()[0];
    assert!(last_user_message(chat).contains("The writer says: make it sound tired"));
    // Skip: the prompt goes on as it stands.
    resolve(&mut c, &run, &step, "skip", json!({}));
    let (step, kind, _) = gate(&mut c, &run);
    assert_eq!(kind, "approve_output");
    assert_eq!(last_user_message(&server.requests()[1]), revised);
    // Regenerate: another call, the gate stays.
    resolve(&mut c, &run, &step, "regenerate", json!({}));
    let (step, _, review) = gate(&mut c, &run);
    assert_eq!(std::fs::read_to_string(&review).unwrap(), "Second go.");
    // Reject: the run fails with the writer's reason; nothing is applied.
    resolve(&mut c, &run, &step, "reject", json!({ "text": "not my voice" }));
    let done = progress(&mut c, &run, "done");
    assert_eq!(done["state"], "failed");
    assert!(done["error"].as_str().unwrap().contains("not my voice"), "{done}");
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), text);
    let status = command(&mut c, "showrunner.run.status", json!({ "run": run }));
    assert!(status["steps"].as_array().unwrap().iter().any(|s| s["id"] == "rewrite" && s["model"] == "local/llama3.1"));

    // Paste at the prompt gate: no model call; skip at the output gate: nothing applied.
    let calls = server.requests().len();
    let run = start_run(&mut c, json!({ "pipeline": "rewrite-selection", "uri": u, "range": range }));
    let (step, _, _) = gate(&mut c, &run);
    resolve(&mut c, &run, &step, "paste", json!({ "text": "A pasted answer." }));
    let (step, kind, review) = gate(&mut c, &run);
    assert_eq!(kind, "approve_output");
    assert_eq!(std::fs::read_to_string(&review).unwrap(), "A pasted answer.");
    resolve(&mut c, &run, &step, "skip", json!({}));
    assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
    assert_eq!(server.requests().len(), calls, "paste called no model");
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), text, "a skipped output is not applied");
    // Bad decisions are clear errors.
    let bad =
        command_raw(&mut c, "showrunner.gate.resolve", json!({ "run": run, "step": "approve", "decision": "approve" }));
    assert!(bad["error"]["message"].as_str().unwrap().contains("not waiting at a gate"), "{bad}");
    c.finish();
}

#[test]
fn research_lands_in_the_library_the_context_and_the_hover() {
    let finding = json!({
        "name": "Fog signals at rock stations",
        "summary": "Rock lighthouses fired explosive fog signals every five minutes in fog.",
        "body": "Tonite charges were hung from a jib and fired electrically.",
        "keywords": ["fog signal", "tonite"],
        "sources": ["Trinity House Fog Signal Rules, 1902"]
    });
    let server = ModelServer::start(vec![Reply::tokens(&[
        "```json\n",
        &finding.to_string()[..40],
        &finding.to_string()[40..],
        "\n```",
    ])]);
    let (_tmp, dir) = example_on(&server);
    let scene = dir.join("story/ch01/02-the-hut.md");
    let t = std::fs::read_to_string(&scene).unwrap();
    std::fs::write(
        &scene,
        format!("{}\n\nAt midnight the fog signal went off, a tonite charge on the jib.\n", t.trim_end()),
    )
    .unwrap();
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    let run = command(
        &mut c,
        "showrunner.research",
        json!({ "question": "How were fog signals fired at rock lighthouses?", "uri": u }),
    )["run"]
        .as_str()
        .unwrap()
        .to_string();
    let (step, _, _) = gate(&mut c, &run);
    resolve(&mut c, &run, &step, "approve", json!({}));
    let (step, kind, review) = gate(&mut c, &run);
    assert_eq!(kind, "approve_output");
    assert!(std::fs::read_to_string(&review).unwrap().contains("Tonite charges"), "the repaired JSON is shown");
    resolve(&mut c, &run, &step, "approve", json!({}));
    assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
    let status = command(&mut c, "showrunner.run.status", json!({ "run": run }));
    let save = status["steps"].as_array().unwrap().iter().find(|s| s["id"] == "save").unwrap();
    assert_eq!(save["state"], "succeeded");
    let bucket = dir.join("buckets/research/fog-signals-at-rock-stations.yaml");
    let yaml = std::fs::read_to_string(&bucket).unwrap();
    assert!(yaml.contains("Trinity House Fog Signal Rules, 1902") && yaml.contains("tonite"), "{yaml}");
    // The context engine now injects it into the scene whose words match.
    let ctx = command(&mut c, "showrunner.context.show", json!({ "uri": u }));
    let item = ctx["items"].as_array().unwrap().iter().find(|i| i["bucket"] == "fog-signals-at-rock-stations");
    let item = item.unwrap_or_else(|| panic!("research in the context: {ctx}"));
    assert!(item["reason"].as_str().unwrap().contains("research"), "{item}");
    // Hovering a matched keyword shows the finding.
    let text = std::fs::read_to_string(&scene).unwrap();
    let at = text.rfind("tonite").unwrap();
    let hover =
        c.request("textDocument/hover", json!({ "textDocument": { "uri": u }, "position": position(&text, at + 2) }));
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(md.contains("Research: Fog signals at rock stations") && md.contains("Trinity House"), "{md}");
    c.finish();
}

#[test]
fn an_agent_routes_by_keyword_calls_tools_and_proposes_a_bucket_behind_a_gate() {
    let server = ModelServer::start(vec![
        Reply::tokens(&[r#"{"thought": "What do we know?", "tool": "search_buckets", "args": {"query": "lamp oil"}}"#]),
        Reply::tokens(&[
            r#"{"thought": "Save it", "tool": "propose_bucket", "args": {"kind": "research", "name": "Colza oil", "summary": "Rapeseed oil burned in lamps before paraffin.", "keywords": ["colza"], "sources": ["Stevenson, 1850"]}}"#,
        ]),
        Reply::tokens(&[
            r#"{"thought": "Done", "answer": "Colza oil was the usual fuel until about 1870; I saved a note on it."}"#,
        ]),
    ]);
    let (_tmp, dir) = example_on(&server);
    let scene = dir.join("story/ch01/01-arrival.md");
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    let asked = command(
        &mut c,
        "showrunner.agent.ask",
        json!({ "text": "Research what oil the lamp burned in 1900", "uri": u }),
    );
    assert_eq!(asked["agent"], "researcher");
    assert_eq!(asked["via"], "keywords");
    assert!(asked["reason"].as_str().unwrap().contains("research"), "{asked}");
    let run = asked["run"].as_str().unwrap().to_string();
    let (step, kind, review) = gate(&mut c, &run);
    assert_eq!(kind, "tool");
    assert!(step.ends_with(":propose_bucket"), "{step}");
    assert!(std::fs::read_to_string(&review).unwrap().contains("Colza oil"));
    // The first tool ran without a gate, and its result went back to the model.
    let second = last_user_message(&server.requests()[1]);
    assert!(second.contains("Result of search_buckets") && second.contains("lamp-oil"), "{second}");
    resolve(&mut c, &run, &step, "approve", json!({}));
    let done = progress(&mut c, &run, "done");
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(dir.join("buckets/research/colza-oil.yaml").exists());
    let status = command(&mut c, "showrunner.run.status", json!({ "run": run }));
    let ids: Vec<&str> = status["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["turn-1", "turn-1:search_buckets", "turn-2", "turn-2:propose_bucket", "turn-3"]);
    assert!(status["output"].as_str().unwrap().starts_with("Colza oil was the usual fuel"));
    // No keyword: the intent call decides, and the run records it.
    server.push(Reply::tokens(&["outliner"]));
    server.push(Reply::tokens(&[r#"{"answer": "1. Alice sees the boat."}"#]));
    let asked = command(&mut c, "showrunner.agent.ask", json!({ "text": "hmm, where should this go next?", "uri": u }));
    assert_eq!((asked["agent"].as_str(), asked["via"].as_str()), (Some("outliner"), Some("intent")));
    let run = asked["run"].as_str().unwrap().to_string();
    assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
    c.finish();
}

#[test]
fn a_gate_outlives_a_server_restart() {
    let server = ModelServer::start(vec![Reply::tokens(&["Alice counted the steps again."])]);
    let (_tmp, dir) = example_on(&server);
    let scene = dir.join("story/ch01/01-arrival.md");
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    let run = start_run(&mut c, json!({ "pipeline": "continue-scene", "uri": u }));
    let (step, _, review) = gate(&mut c, &run);
    // The writer edits the prompt on disk, then the editor goes away.
    let edited = format!("{}\nEnd on the lamp being lit.", std::fs::read_to_string(&review).unwrap());
    std::fs::write(&review, &edited).unwrap();
    c.finish();
    // With no server left to ask the gate, the run waits for nobody: it is listed as interrupted.
    let runs = showrunner_testkit::run_binary(bin(), &["runs"], &dir, &[]);
    assert!(String::from_utf8_lossy(&runs.stdout).contains("interrupted"), "{}", String::from_utf8_lossy(&runs.stdout));

    let mut c = start(&dir);
    let (again, kind, review_again) = gate(&mut c, &run);
    assert_eq!(
        (again.as_str(), kind.as_str(), review_again.as_path()),
        (step.as_str(), "review_prompt", review.as_path())
    );
    assert_eq!(std::fs::read_to_string(&review).unwrap(), edited, "the writer's edits survive");
    let queue = command(&mut c, "showrunner.gate.list", json!({}));
    assert_eq!(queue[0]["run"], run.as_str());
    resolve(&mut c, &run, &step, "approve", json!({}));
    let (step, _, _) = gate(&mut c, &run);
    assert!(last_user_message(&server.requests()[0]).ends_with("End on the lamp being lit."));
    resolve(&mut c, &run, &step, "approve", json!({}));
    assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
    assert!(std::fs::read_to_string(&scene).unwrap().trim_end().ends_with("Alice counted the steps again."));
    c.finish();
}

/// Starts `showrunner run draft-scene SCENE --yes` in a terminal and kills it once the draft is
/// streaming: a run another process left unfinished. Its id.
fn interrupted_run(dir: &Path, scene: &str) -> String {
    let mut child = std::process::Command::new(bin())
        .args(["run", "draft-scene", scene, "--yes"])
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join(".no-user-config"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    showrunner_testkit::read_until(child.stdout.as_mut().unwrap(), "w3 ");
    child.kill().unwrap();
    child.wait().unwrap();
    let runs = showrunner_testkit::run_binary(bin(), &["runs"], dir, &[]);
    let listed = String::from_utf8_lossy(&runs.stdout).to_string();
    assert!(listed.lines().next().unwrap().contains("interrupted"), "{listed}");
    listed.split_whitespace().next().unwrap().to_string()
}

#[test]
fn an_editor_asks_before_resuming_a_run_another_process_left() {
    let words: Vec<String> = (0..400).map(|i| format!("w{i} ")).collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let server = ModelServer::start(vec![
        Reply::slow(&refs, Duration::from_millis(25)),
        Reply::slow(&refs, Duration::from_millis(25)),
    ]);
    let (_tmp, dir) = example_on(&server);
    let scene = "story/ch01/03-supper.md";
    let before = std::fs::read_to_string(dir.join(scene)).unwrap();
    let declined = interrupted_run(&dir, scene);
    let resumed = interrupted_run(&dir, scene);
    assert_eq!(server.requests().len(), 2);
    server.push(Reply::tokens(&["Tom ", "slept."]));

    // The editor starts: each run waits at a resume gate, and no model is called.
    let mut c = start(&dir);
    let mut asked = Vec::new();
    for _ in 0..2 {
        let g = c
            .wait_for("a resume gate", |v| v["method"] == "showrunner/runProgress" && v["params"]["event"] == "gate")
            ["params"]
            .clone();
        assert_eq!(g["gate"]["kind"], "resume", "{g}");
        assert!(g["gate"]["text"].as_str().unwrap().contains("was interrupted at step `draft`"), "{g}");
        asked.push(g["run"].as_str().unwrap().to_string());
    }
    asked.sort();
    let mut both = vec![declined.clone(), resumed.clone()];
    both.sort();
    assert_eq!(asked, both);
    assert_eq!(server.requests().len(), 2, "nothing was sent before the writer decided");
    let status = command(&mut c, "showrunner.run.status", json!({ "run": declined }));
    assert_eq!((status["state"].as_str(), status["gate"]["kind"].as_str()), (Some("waiting"), Some("resume")));

    resolve(&mut c, &declined, "resume", "reject", json!({}));
    assert_eq!(progress(&mut c, &declined, "done")["state"], "cancelled");
    assert_eq!(server.requests().len(), 2);

    resolve(&mut c, &resumed, "resume", "approve", json!({}));
    let (step, kind, _) = gate(&mut c, &resumed);
    assert_eq!((step.as_str(), kind.as_str()), ("approve", "approve_output"));
    // The restored run's output gate shows the edit it makes: a draft on a scene with prose
    // appends, and says so; its diff is what lands on disk (the scene is not open), byte for byte.
    let queue = command(&mut c, "showrunner.gate.list", json!({}));
    let edit = &queue[0]["edit"];
    let last = before.trim_end().lines().count();
    assert_eq!(
        edit["description"],
        format!("will be added after line {last} of 03-supper.md, at the end of the scene")
    );
    assert_eq!(edit["mode"], "append_body");
    let diff = edit["diff"].as_str().unwrap().to_string();
    resolve(&mut c, &resumed, &step, "approve", json!({}));
    assert_eq!(progress(&mut c, &resumed, "done")["state"], "succeeded");
    assert_eq!(server.requests().len(), 3);
    let after = std::fs::read_to_string(dir.join(scene)).unwrap();
    assert_eq!(after, format!("{}\n\nTom slept.\n", before.trim_end()));
    assert_eq!(showrunner_pipeline::edit::apply_unified_diff(&before, &diff).as_deref(), Some(after.as_str()));
    c.finish();
}

#[test]
fn cancelling_mid_stream_stops_the_run() {
    let tokens: Vec<String> = (0..200).map(|i| format!("word{i} ")).collect();
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let server = ModelServer::start(vec![
        Reply::slow(&refs, Duration::from_millis(50)),
        Reply::slow(&refs, Duration::from_millis(50)),
    ]);
    let (_tmp, dir) = example_on(&server);
    let scene = dir.join("story/ch01/01-arrival.md");
    let before = std::fs::read_to_string(&scene).unwrap();
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    for via_progress in [false, true] {
        let run = start_run(&mut c, json!({ "pipeline": "continue-scene", "uri": u }));
        let (step, _, _) = gate(&mut c, &run);
        resolve(&mut c, &run, &step, "approve", json!({}));
        progress(&mut c, &run, "text");
        if via_progress {
            // The client's cancel button on the run's work-done progress.
            c.notify("window/workDoneProgress/cancel", json!({ "token": format!("showrunner/run/{run}") }));
        } else {
            let r = command(&mut c, "showrunner.run.cancel", json!({ "run": run }));
            assert_eq!(r["state"], "cancelled", "{r}");
        }
        let done = progress(&mut c, &run, "done");
        assert_eq!(done["state"], "cancelled", "{done}");
        let status = command(&mut c, "showrunner.run.status", json!({ "run": run }));
        assert_eq!(status["state"], "cancelled");
    }
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), before);
    c.finish();
}

#[test]
fn pipelines_are_listed_by_layer_and_bad_runs_are_refused() {
    let server = ModelServer::start(vec![]);
    let (_tmp, dir) = example_on(&server);
    let mut c = start(&dir);
    let list = command(&mut c, "showrunner.pipeline.list", json!({}));
    let layer = |id: &str| list.as_array().unwrap().iter().find(|p| p["id"] == id).map(|p| p["layer"].clone());
    assert_eq!(layer("rewrite-selection"), Some(json!("quick_action")));
    assert_eq!(layer("draft-scene"), Some(json!("template")));
    let bucket = dir.join("buckets/characters/alice.yaml");
    let e = command_raw(&mut c, "showrunner.pipeline.run", json!({ "pipeline": "draft-scene", "uri": uri(&bucket) }));
    assert!(e["error"]["message"].as_str().unwrap().contains("is not a scene"), "{e}");
    let scene = dir.join("story/ch01/01-arrival.md");
    let e = command_raw(&mut c, "showrunner.pipeline.run", json!({ "pipeline": "fly", "uri": uri(&scene) }));
    assert!(e["error"]["message"].as_str().unwrap().contains("no pipeline `fly`"), "{e}");
    let e = command_raw(&mut c, "showrunner.run.status", json!({ "run": "nope" }));
    assert!(e["error"]["message"].as_str().unwrap().contains("no run `nope`"), "{e}");
    // A model server that is down: the run fails with the URL and the key to change.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml"))
        .unwrap()
        .replace(&server.url, &format!("http://127.0.0.1:{down}/v1"));
    std::fs::write(dir.join("showrunner.yaml"), cfg).unwrap();
    c.finish();
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    let run = start_run(&mut c, json!({ "pipeline": "continue-scene", "uri": u }));
    let (step, _, _) = gate(&mut c, &run);
    resolve(&mut c, &run, &step, "approve", json!({}));
    let done = progress(&mut c, &run, "done");
    assert_eq!(done["state"], "failed");
    let err = done["error"].as_str().unwrap();
    assert!(err.contains(&format!("127.0.0.1:{down}")) && err.contains("providers.local.base_url"), "{err}");
    c.finish();
}

#[test]
fn the_judge_routes_three_ways_and_sensitive_topics_go_to_a_human_and_verify_escalates() {
    let verdict = |c: f64, issues: &[&str], topics: &[&str]| {
        Reply::tokens(&[&json!({ "confidence": c, "issues": issues, "sensitive_topics": topics }).to_string()])
    };
    let server = ModelServer::start(vec![
        // 1. above approve_above: approved without a human.
        Reply::tokens(&["First paragraph."]),
        verdict(0.95, &[], &[]),
        // 2. between the thresholds: a human decides.
        Reply::tokens(&["Second paragraph."]),
        verdict(0.8, &["a little flat"], &[]),
        // 3. below review_above: generated again with the judge's feedback, then approved.
        Reply::tokens(&["Third, weak."]),
        verdict(0.4, &["the tense drifts"], &[]),
        Reply::tokens(&["Third, mended."]),
        verdict(0.93, &[], &[]),
        // 4. a sensitive topic goes to a human whatever the score.
        Reply::tokens(&["Fourth, about the election."]),
        verdict(0.99, &[], &["politics"]),
    ]);
    let (_tmp, dir) = example_on(&server);
    showrunner_testkit::write_file(
        &dir,
        "workflows/judged.yaml",
        "id: judged\ntitle: Judged paragraph\nsteps:\n  - { id: context, type: gather_context }\n  - { id: prompt, type: prompt, template: \"Continue: {{scene.before_cursor}}\" }\n  - { id: draft, type: generate }\n  - { id: judge, type: judge, max_retries: 1 }\n  - { id: apply, type: apply_edit }\n",
    );
    let scene = dir.join("story/ch01/03-supper.md");
    let mut c = start(&dir);
    // Not open in the editor: each edit builds on the file the last one wrote.
    let u = uri(&scene);
    let list = command(&mut c, "showrunner.pipeline.list", json!({ "uri": u }));
    assert!(list.as_array().unwrap().iter().any(|p| p["id"] == "judged" && p["layer"] == "custom"));
    let go = |c: &mut Client| start_run(c, json!({ "pipeline": "judged", "uri": u }));
    let run = go(&mut c);
    assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
    let run = go(&mut c);
    let (step, kind, review) = gate(&mut c, &run);
    assert_eq!((step.as_str(), kind.as_str()), ("judge", "judge"));
    assert!(std::fs::read_to_string(&review).unwrap().contains("a little flat"));
    resolve(&mut c, &run, &step, "approve", json!({}));
    assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
    let run = go(&mut c);
    assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
    let retry = last_user_message(&server.requests()[6]);
    assert!(retry.contains("scored the last attempt 0.40") && retry.contains("the tense drifts"), "{retry}");
    let run = go(&mut c);
    let (step, kind, _) = gate(&mut c, &run);
    assert_eq!(kind, "judge", "a sensitive topic always goes to a human");
    assert!(
        last_user_message(&server.requests()[9]).contains("politics, legal claims"),
        "the judge is told what to watch"
    );
    resolve(&mut c, &run, &step, "reject", json!({ "text": "keep politics out" }));
    let done = progress(&mut c, &run, "done");
    assert_eq!(done["state"], "failed");
    let text = std::fs::read_to_string(&scene).unwrap();
    assert!(text.contains("First paragraph.") && text.contains("Second paragraph.") && text.contains("Third, mended."));
    assert!(!text.contains("Third, weak.") && !text.contains("election"), "{text}");

    // Verify: a stranger's name twice more after the first draft, then a human is asked.
    for _ in 0..3 {
        server.push(Reply::tokens(&["Alice met Quillan at the door, and Quillan smiled."]));
    }
    let run = start_run(&mut c, json!({ "pipeline": "draft-scene", "uri": u }));
    let (step, _, _) = gate(&mut c, &run);
    resolve(&mut c, &run, &step, "approve", json!({}));
    let (step, kind, review) = gate(&mut c, &run);
    assert_eq!((step.as_str(), kind.as_str()), ("check", "verify"));
    assert!(std::fs::read_to_string(&review).unwrap().contains("These names are not in the story: Quillan"));
    let n = server.requests().len();
    assert!(last_user_message(&server.requests()[n - 1]).contains("A first draft had problems"));
    resolve(&mut c, &run, &step, "reject", json!({}));
    let done = progress(&mut c, &run, "done");
    assert!(done["error"].as_str().unwrap().contains("continuity problems"), "{done}");
    c.finish();
}

/// API keys come from the environment and end up nowhere: not in run records, logs, review
/// documents, the history or error messages — even when the model server echoes the key back.
#[test]
fn an_api_key_never_reaches_a_file_or_a_message() {
    const KEY: &str = "sk-live-Zoe-5f3a9c1e7b2d4a60";
    let server = ModelServer::start(vec![
        Reply::status(401, &format!("{{\"error\": {{\"message\": \"invalid key {KEY}\"}}}}")),
        Reply::tokens(&["Alice trimmed the wick."]),
    ]);
    let (tmp, dir) = example_on(&server);
    let state = tmp.path().join("state");
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml")).unwrap();
    let cfg = cfg.replace(
        &format!("local:  {{ base_url: \"{}\" }}", server.url),
        &format!("local:  {{ base_url: \"{}\", api_key_env: SR_TEST_SECRET }}", server.url),
    );
    assert!(cfg.contains("SR_TEST_SECRET"), "{cfg}");
    std::fs::write(dir.join("showrunner.yaml"), cfg).unwrap();
    let scene = dir.join("story/ch01/01-arrival.md");
    let mut c = Client::spawn(
        bin(),
        &[
            ("SR_TEST_SECRET", KEY),
            ("XDG_CONFIG_HOME", dir.join(".no-user-config").to_str().unwrap()),
            ("XDG_STATE_HOME", state.to_str().unwrap()),
        ],
    );
    c.initialize(&[&dir], false);
    let u = c.open(&scene, "markdown");
    for expect_ok in [false, true] {
        let run = start_run(&mut c, json!({ "pipeline": "continue-scene", "uri": u }));
        let (step, _, _) = gate(&mut c, &run);
        resolve(&mut c, &run, &step, "approve", json!({}));
        if expect_ok {
            let (step, _, _) = gate(&mut c, &run);
            resolve(&mut c, &run, &step, "approve", json!({}));
            assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
        } else {
            let done = progress(&mut c, &run, "done");
            let err = done["error"].as_str().unwrap();
            assert!(err.contains("401") || err.contains("[redacted]"), "{err}");
            assert!(!err.contains(KEY), "{err}");
        }
    }
    assert_eq!(server.requests()[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    c.finish();
    // Everything the runs produced, byte for byte, and the server's log: no key.
    let mut checked = 0;
    for e in walkdir::WalkDir::new(&dir)
        .into_iter()
        .chain(walkdir::WalkDir::new(&state))
        .flatten()
        .filter(|e| e.file_type().is_file())
    {
        let bytes = std::fs::read(e.path()).unwrap();
        assert!(!bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()), "the key is in {}", e.path().display());
        checked += 1;
    }
    assert!(checked > 30, "{checked} files checked");
    assert!(dir.join(".showrunner/runs.db").exists());
    // The log is in the state folder, not in the project.
    let logs: Vec<_> = std::fs::read_dir(state.join("showrunner")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(log.starts_with("[pid ") && log.contains("logging to"), "{log}");
    assert!(!dir.join(".showrunner/logs").exists());
}

/// Nothing a command, a pipeline or an agent is given can write outside the project.
#[test]
fn traversal_in_ids_names_and_paths_stays_inside_the_project() {
    let server = ModelServer::start(vec![Reply::tokens(&[
        r#"{"tool": "propose_bucket", "args": {"kind": "../../../tmp", "name": "../../escape"}}"#,
    ])]);
    let (tmp, dir) = example_on(&server);
    let mut c = start(&dir);
    // A bucket name full of `..` becomes a slug inside buckets/.
    let made = command(&mut c, "showrunner.bucket.create", json!({ "kind": "note", "name": "../../etc/passwd" }));
    let path = PathBuf::from(made["uri"].as_str().unwrap().strip_prefix("file://").unwrap());
    assert!(path.starts_with(dir.join("buckets")), "{}", path.display());
    assert!(!path.to_string_lossy().contains(".."));
    // A kind that is a path is refused.
    let e = command_raw(&mut c, "showrunner.bucket.create", json!({ "kind": "../../x", "name": "X" }));
    assert!(e["error"]["message"].is_string(), "{e}");
    // Run ids that are paths find nothing.
    for bad in ["../../etc/passwd", "/etc/passwd", "..\\..\\x"] {
        let e = command_raw(&mut c, "showrunner.run.status", json!({ "run": bad }));
        assert!(e["error"]["message"].as_str().unwrap().contains("no run"), "{e}");
        let e = command_raw(
            &mut c,
            "showrunner.gate.resolve",
            json!({ "run": bad, "step": "../x", "decision": "approve" }),
        );
        assert!(e["error"].is_object(), "{e}");
    }
    // A file outside the project is not a scene to run on.
    let outside = tmp.path().join("outside.md");
    std::fs::write(&outside, "---\nid: x\n---\nText.\n").unwrap();
    let e = command_raw(&mut c, "showrunner.pipeline.run", json!({ "pipeline": "draft-scene", "uri": uri(&outside) }));
    assert!(e["error"]["message"].as_str().unwrap().contains("not a file of a Showrunner project"), "{e}");
    // An agent proposing a bucket whose kind and name are paths: approved, and still refused.
    let scene = dir.join("story/ch01/01-arrival.md");
    let u = c.open(&scene, "markdown");
    let asked = command(&mut c, "showrunner.agent.ask", json!({ "text": "Research the harbour", "uri": u }));
    let run = asked["run"].as_str().unwrap().to_string();
    let (step, _, review) = gate(&mut c, &run);
    assert!(review.starts_with(dir.join(".showrunner/runs")), "review documents stay under .showrunner/runs/");
    server.push(Reply::tokens(&[r#"{"answer": "I could not save it."}"#]));
    resolve(&mut c, &run, &step, "approve", json!({}));
    assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
    let status = command(&mut c, "showrunner.run.status", json!({ "run": run }));
    let tool = status["steps"].as_array().unwrap().iter().find(|s| s["id"] == "turn-1:propose_bucket").unwrap().clone();
    assert_eq!(tool["state"], "failed", "{status}");
    assert!(!tmp.path().join("tmp").exists() && !dir.parent().unwrap().join("escape.yaml").exists());
    c.finish();
}

/// A provider whose key is not in the environment is flagged before the writer approves: the
/// gate names the variable (`model_problem`), and so does the cascade (`problem`); with the key
/// set, neither says anything. The key itself never appears.
#[test]
fn a_model_without_its_key_is_flagged_at_the_gate() {
    let server = ModelServer::start(vec![Reply::tokens(&["Alice trimmed the wick."])]);
    let (_tmp, dir) = example_on(&server);
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml")).unwrap().replace(
        &format!("local:  {{ base_url: \"{}\" }}", server.url),
        &format!("local:  {{ base_url: \"{}\", api_key_env: SR_TEST_MISSING_KEY }}", server.url),
    );
    assert!(cfg.contains("SR_TEST_MISSING_KEY"), "{cfg}");
    std::fs::write(dir.join("showrunner.yaml"), cfg).unwrap();
    let scene = dir.join("story/ch01/01-arrival.md");
    for key in [None, Some("sk-test-1234")] {
        let mut env = vec![("XDG_CONFIG_HOME", dir.join(".no-user-config").to_str().unwrap().to_string())];
        if let Some(k) = key {
            env.push(("SR_TEST_MISSING_KEY", k.to_string()));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut c = Client::spawn(bin(), &env);
        c.initialize(&[&dir], false);
        let u = c.open(&scene, "markdown");
        let resolved = command(&mut c, "showrunner.models.resolve", json!({ "uri": u }));
        let run = start_run(&mut c, json!({ "pipeline": "continue-scene", "uri": u }));
        let g = progress(&mut c, &run, "gate");
        match key {
            None => {
                for problem in [&g["gate"]["model_problem"], &resolved["problem"]] {
                    let p = problem.as_str().unwrap_or_else(|| panic!("no problem named: {g} {resolved}"));
                    assert!(p.contains("SR_TEST_MISSING_KEY") && p.contains("providers.local.api_key_env"), "{p}");
                }
            }
            Some(k) => {
                assert!(g["gate"].get("model_problem").is_none(), "{g}");
                assert!(resolved.get("problem").is_none(), "{resolved}");
                assert!(!g.to_string().contains(k));
            }
        }
        command(&mut c, "showrunner.run.cancel", json!({ "run": run }));
        c.finish();
    }
}

/// `showrunner batch` without `--yes` parks each run at its first gate; an editor's session
/// takes them into its one approval queue, and a run approved there finishes there.
#[test]
fn a_batchs_runs_wait_in_the_editors_approval_queue_and_finish_there() {
    let server = ModelServer::start(vec![Reply::tokens(&[r#"{"ideas": [{"title": "Fog", "pitch": "The bell."}]}"#])]);
    let (_tmp, dir) = example_on(&server);
    let out = showrunner_testkit::run_binary(
        bin(),
        &["batch", "brainstorm", "story/ch01/01-arrival.md", "story/ch01/02-the-hut.md"],
        &dir,
        &[("XDG_CONFIG_HOME", dir.join(".no-user-config").to_str().unwrap())],
    );
    let t = showrunner_testkit::output_text(&out);
    assert!(t.contains("2 waiting at a gate"), "{t}");
    let runs = started_runs(&t);
    assert_eq!(runs.len(), 2, "{t}");

    let mut c = start(&dir);
    let (step, kind, _) = gate(&mut c, &runs[0]);
    assert_eq!((step.as_str(), kind.as_str()), ("review", "review_prompt"));
    gate(&mut c, &runs[1]);
    let queue = command(&mut c, "showrunner.gate.list", json!({}));
    let waiting: Vec<&str> = queue.as_array().unwrap().iter().filter_map(|g| g["run"].as_str()).collect();
    assert!(runs.iter().all(|r| waiting.contains(&r.as_str())), "{queue}");
    assert!(server.requests().iter().all(|r| !r.path.ends_with("/chat/completions")), "no call before approval");

    resolve(&mut c, &runs[0], "review", "approve", json!({}));
    let (step, kind, _) = gate(&mut c, &runs[0]);
    assert_eq!((step.as_str(), kind.as_str()), ("approve", "approve_output"));
    resolve(&mut c, &runs[0], "approve", "approve", json!({}));
    assert_eq!(progress(&mut c, &runs[0], "done")["state"], "succeeded");
    // The other still waits, in the session and in the store.
    let st = command(&mut c, "showrunner.run.status", json!({ "run": runs[1] }));
    assert_eq!(st["state"], "waiting", "{st}");
    c.finish();
}

/// Nothing is written to a file the writer has open: a terminal run approved with `--yes` stops
/// before writing a scene an editor has open (its server lists it), and goes on once the editor
/// is gone.
#[test]
fn a_terminal_run_never_writes_a_scene_open_in_an_editor() {
    let server = ModelServer::start(vec![
        Reply::tokens(&["Alice poured ", "the tea."]),
        Reply::tokens(&["Alice poured ", "the tea."]),
    ]);
    let (_tmp, dir) = example_on(&server);
    let rel = "story/ch01/03-supper.md";
    let scene = dir.join(rel);
    let before = std::fs::read_to_string(&scene).unwrap();
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);
    let env = [("XDG_CONFIG_HOME", dir.join(".no-user-config").to_string_lossy().into_owned())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = ["run", "draft-scene", rel, "--yes", "--model", "local/llama3.1"];
    let out = showrunner_testkit::run_binary(bin(), &args, &dir, &env);
    let t = showrunner_testkit::output_text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains(&format!("{rel} is open in an editor")), "{t}");
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), before, "the open scene is untouched");
    // Nor an export over a file open there (not a story file: any file the editor has open).
    let out = showrunner_testkit::run_binary(bin(), &["export", "md", "ch01"], &dir, &env);
    assert!(out.status.success(), "{}", showrunner_testkit::output_text(&out));
    let exported = dir.join("exports/ch01.md");
    let e = c.open(&exported, "markdown");
    c.request("workspace/symbol", json!({ "query": "" }));
    let out = showrunner_testkit::run_binary(bin(), &["export", "md", "ch01"], &dir, &env);
    let t2 = showrunner_testkit::output_text(&out);
    assert!(!out.status.success() && t2.contains("exports/ch01.md: it is open in an editor"), "{t2}");
    c.notify("textDocument/didClose", json!({ "textDocument": { "uri": e } }));
    c.finish();
    // The editor is gone: the same run goes on and writes.
    let id = t.split_whitespace().skip_while(|w| *w != "Run").nth(1).unwrap().to_string();
    let out = showrunner_testkit::run_binary(bin(), &["resume", &id, "--yes"], &dir, &env);
    let t = showrunner_testkit::output_text(&out);
    assert!(out.status.success(), "{t}");
    assert!(std::fs::read_to_string(&scene).unwrap().contains("Alice poured the tea."));
}

/// A model for batches from the editor: summaries named after their scene, the judge's scores
/// by scene, a one-task plan, and findings for anything else.
fn batch_model(scores: &'static [(&'static str, f64)]) -> ModelServer {
    ModelServer::programmed(8, move |_, body| {
        let asked = showrunner_testkit::model_server::asked(body);
        let scene = showrunner_testkit::model_server::example_scene_in(asked);
        if asked.starts_with("Plan the work") {
            Reply::tokens(&[
                r#"{"tasks": [{"id": "sum", "pipeline": "summarize-scene", "target": "arrival", "why": "one line"}]}"#,
            ])
        } else if asked.starts_with("Score this text") {
            let score = scores
                .iter()
                .find(|(s, _)| asked.contains(&format!("Summary of {s}.")))
                .map(|(_, c)| *c)
                .unwrap_or(0.95);
            Reply::tokens(&[&format!(r#"{{"confidence": {score}, "issues": [], "sensitive_topics": []}}"#)])
        } else if asked.starts_with("Summarize this scene") {
            Reply::tokens(&[&format!("Summary of {scene}.")])
        } else {
            Reply::tokens(&[r#"{"ideas": [{"title": "Fog", "pitch": "The bell."}]}"#])
        }
    })
}

/// The runs of a batch, as `showrunner.batch.status` lists them.
fn batch_runs(c: &mut Client, batch: &str) -> Vec<String> {
    let st = command(c, "showrunner.batch.status", json!({ "batch": batch }));
    st["runs"].as_array().unwrap().iter().map(|r| r["run"].as_str().unwrap().to_string()).collect()
}

/// A batch from the editor: its runs are worked by the language server, their gates wait in
/// its approval queue with the judge's score, the well-judged ones are approved in bulk (each
/// run's later judged gate too), and the batch's progress is reported as it goes.
#[test]
fn a_batch_from_the_editor_is_worked_there_and_its_well_judged_gates_approved_in_bulk() {
    let server = batch_model(&[("supper", 0.8)]);
    let (_tmp, dir) = example_on(&server);
    let mut c = start(&dir);
    let started = command(
        &mut c,
        "showrunner.batch.run",
        json!({ "pipeline": "summarize-scene", "targets": ["ch01"], "judge": true, "jobs": 2, "model": "local/llama3.1" }),
    );
    assert_eq!(started["queued"], 4, "{started}");
    let batch = started["batch"].as_str().unwrap().to_string();
    let runs = batch_runs(&mut c, &batch);
    assert_eq!(runs.len(), 4);
    // Every run reaches a gate: three output gates scored 0.95, the supper's judge gate at 0.8.
    let mut kinds = Vec::new();
    for r in &runs {
        let g = c.wait_for(&format!("the gate of {r}"), |v| {
            v["method"] == "showrunner/runProgress"
                && v["params"]["run"] == r.as_str()
                && v["params"]["event"] == "gate"
        })["params"]["gate"]
            .clone();
        kinds.push((g["kind"].as_str().unwrap().to_string(), g["confidence"].as_f64()));
    }
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        kinds,
        [
            ("approve_output".into(), Some(0.95)),
            ("approve_output".into(), Some(0.95)),
            ("approve_output".into(), Some(0.95)),
            ("judge".into(), Some(0.8))
        ]
    );
    // The batch's progress, as the terminal words it.
    let token = format!("showrunner/batch/{batch}");
    c.wait_for("the batch's progress", |v| {
        v["method"] == "$/progress"
            && v["params"]["token"] == token.as_str()
            && v["params"]["value"]["message"].as_str().is_some_and(|m| m.contains("4 waiting at a gate"))
    });
    let bad = command_raw(&mut c, "showrunner.batch.approve", json!({ "batch": batch, "min_confidence": 2 }));
    assert!(bad["error"]["message"].as_str().unwrap().contains("from 0 to 1"), "{bad}");

    let approved = command(&mut c, "showrunner.batch.approve", json!({ "batch": batch, "min_confidence": 0.9 }));
    assert_eq!(approved["approved"], 3, "{approved}");
    let st = loop {
        let st = command(&mut c, "showrunner.batch.status", json!({ "batch": batch }));
        if st["done"] == 3 {
            break st;
        }
        c.wait_for("a run's end", |v| v["method"] == "showrunner/runProgress" && v["params"]["event"] == "done");
    };
    assert_eq!((st["waiting"].as_u64(), st["total"].as_u64()), (Some(1), Some(4)), "{st}");
    assert!(std::fs::read_to_string(dir.join("story/ch01/01-arrival.md")).unwrap().contains("Summary of arrival."));
    assert!(!std::fs::read_to_string(dir.join("story/ch01/03-supper.md")).unwrap().contains("Summary of supper."));
    let judge_calls = || server.requests().iter().filter(|r| last_user_message(r).starts_with("Score this")).count();
    assert_eq!(judge_calls(), 4);

    // At 0.8: the supper's judge gate, then its output gate (scored 0.8 too), without asking.
    let approved = command(&mut c, "showrunner.batch.approve", json!({ "min_confidence": 0.8 }));
    assert_eq!(approved["approved"], 1, "{approved}");
    loop {
        let st = command(&mut c, "showrunner.batch.status", json!({ "batch": batch }));
        if st["done"] == 4 {
            assert_eq!(st["summary"], "4/4 done · 0 running · 0 waiting at a gate · 0 failed · 0 queued", "{st}");
            break;
        }
        c.wait_for("a run's end", |v| v["method"] == "showrunner/runProgress" && v["params"]["event"] == "done");
    }
    assert!(std::fs::read_to_string(dir.join("story/ch01/03-supper.md")).unwrap().contains("Summary of supper."));
    assert_eq!(judge_calls(), 4, "nothing was scored again");
    c.finish();
}

/// A plan from the editor: the planner's prompt and its plan are gates in the approval queue
/// (the plan as a list, a graph and its JSON); approved, its batch is worked there.
#[test]
fn a_plan_from_the_editor_is_approved_at_its_gates_then_worked_as_a_batch() {
    let server = batch_model(&[]);
    let (_tmp, dir) = example_on(&server);
    let mut c = start(&dir);
    let bad = command_raw(&mut c, "showrunner.plan", json!({ "goal": "Summaries", "scope": "ch99" }));
    assert!(bad["error"]["message"].as_str().unwrap().contains("nothing called `ch99`"), "{bad}");
    let run = command(
        &mut c,
        "showrunner.plan",
        json!({ "goal": "Summarize the arrival", "scope": "ch01", "model": "local/llama3.1" }),
    )["run"]
        .as_str()
        .unwrap()
        .to_string();
    let (step, kind, review) = gate(&mut c, &run);
    assert_eq!((step.as_str(), kind.as_str()), ("review", "review_prompt"));
    assert!(std::fs::read_to_string(&review).unwrap().contains("- summarize-scene:"));
    resolve(&mut c, &run, "review", "approve", json!({}));
    let (step, kind, review) = gate(&mut c, &run);
    assert_eq!((step.as_str(), kind.as_str()), ("approve-plan", "approve_output"));
    let shown = std::fs::read_to_string(&review).unwrap();
    assert!(
        shown.contains("1 task(s), 1 run(s)") && shown.contains("## Graph") && shown.contains("```json"),
        "{shown}"
    );
    resolve(&mut c, &run, "approve-plan", "approve", json!({}));
    assert_eq!(progress(&mut c, &run, "done")["state"], "succeeded");
    let st = command(&mut c, "showrunner.run.status", json!({ "run": run }));
    let answer = st["output"].to_string();
    let batch = answer.split("batch ").nth(1).unwrap().split(':').next().unwrap().to_string();
    // Its one run is worked here, judged, and waits at its output gate with the score.
    let runs = batch_runs(&mut c, &batch);
    assert_eq!(runs.len(), 1);
    let g = c.wait_for("the plan's run at its gate", |v| {
        v["method"] == "showrunner/runProgress"
            && v["params"]["run"] == runs[0].as_str()
            && v["params"]["event"] == "gate"
    })["params"]["gate"]
        .clone();
    assert_eq!((g["kind"].as_str(), g["confidence"].as_f64()), (Some("approve_output"), Some(0.95)), "{g}");
    resolve(&mut c, &runs[0], "approve", "approve", json!({}));
    assert_eq!(progress(&mut c, &runs[0], "done")["state"], "succeeded");
    assert!(std::fs::read_to_string(dir.join("story/ch01/01-arrival.md")).unwrap().contains("Summary of arrival."));
    c.finish();
}

/// Cancelling a batch from the editor stops its runs waiting at gates and its queued ones.
#[test]
fn a_batch_cancelled_from_the_editor_stops_every_run() {
    let server = batch_model(&[]);
    let (_tmp, dir) = example_on(&server);
    let mut c = start(&dir);
    let started = command(
        &mut c,
        "showrunner.batch.run",
        json!({ "pipeline": "brainstorm", "targets": ["ch01", "ch02"], "jobs": 1 }),
    );
    let batch = started["batch"].as_str().unwrap().to_string();
    let runs = batch_runs(&mut c, &batch);
    // The first waits at its prompt gate (a gate does not hold up the batch: the next starts).
    gate(&mut c, &runs[0]);
    gate(&mut c, &runs[1]);
    let cancelled = command(&mut c, "showrunner.batch.cancel", json!({ "batch": batch }));
    assert_eq!(cancelled["asked"].as_u64(), Some(runs.len() as u64), "{cancelled}");
    let st = loop {
        let st = command(&mut c, "showrunner.batch.status", json!({ "batch": batch }));
        if st["cancelled"] == runs.len() as u64 {
            break st;
        }
        c.wait_for("a run's end", |v| v["method"] == "showrunner/runProgress" && v["params"]["event"] == "done");
    };
    assert_eq!(st["done"], 0, "{st}");
    assert!(server.requests().iter().all(|r| !r.path.ends_with("/chat/completions")), "nothing was sent");
    c.finish();
}

/// A terminal's bulk approval leaves the gates an editor is asking to that editor, and says so.
#[test]
fn a_terminal_bulk_approval_names_the_runs_an_editor_holds_and_leaves_them_to_it() {
    let server = batch_model(&[("supper", 0.8)]);
    let (_tmp, dir) = example_on(&server);
    let env = [("XDG_CONFIG_HOME", dir.join(".no-user-config").to_string_lossy().into_owned())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = ["batch", "summarize-scene", "ch01", "--judge", "--model", "local/llama3.1"];
    let t = showrunner_testkit::output_text(&showrunner_testkit::run_binary(bin(), &args, &dir, &env));
    assert!(t.contains("4 waiting at a gate"), "{t}");
    let runs = started_runs(&t);
    // The editor takes the parked runs into its approval queue.
    let mut c = start(&dir);
    for r in &runs {
        gate(&mut c, r);
    }
    let out = showrunner_testkit::run_binary(bin(), &["batch", "approve", "--min-confidence", "0.9"], &dir, &env);
    let t = showrunner_testkit::output_text(&out);
    assert!(t.contains("0 run(s) wait with an answer judged 0.9 or more: approving them"), "{t}");
    assert!(t.contains("3 more wait in an editor's approval queue"), "{t}");
    assert!(!std::fs::read_to_string(dir.join("story/ch01/01-arrival.md")).unwrap().contains("Summary of arrival."));
    // Still the editor's to decide.
    let queue = command(&mut c, "showrunner.gate.list", json!({}));
    assert_eq!(queue.as_array().unwrap().len(), 4, "{queue}");
    c.finish();
}

/// The runs a `showrunner batch` said it started ("started RUN …"), in order.
fn started_runs(said: &str) -> Vec<String> {
    said.lines().filter_map(|l| l.strip_prefix("started ")).map(|l| l.split(' ').next().unwrap().to_string()).collect()
}
