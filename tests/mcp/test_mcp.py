"""`showrunner mcp` end to end, driven by the official MCP Python SDK (`mcp` from PyPI) over stdio:
every tool, resources and prompts, traversal attempts, huge and malformed arguments, and a
proposal that waits as a gate in a running `showrunner lsp` session and is approved there.

Run through tests/mcp/run.sh (it makes the virtualenv); SHOWRUNNER_BIN names the binary.
"""

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError as McpError

from lsp_client import LspClient

BIN = os.environ.get("SHOWRUNNER_BIN", "showrunner")


@pytest.fixture()
def project():
    tmp = tempfile.mkdtemp(prefix="sr-mcp-")
    root = Path(tmp) / "lighthouse"
    out = subprocess.run([BIN, "init", str(root), "--example"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    yield root
    shutil.rmtree(tmp, ignore_errors=True)


@asynccontextmanager
async def session(cwd, args=("mcp",), env=None):
    params = StdioServerParameters(command=BIN, args=list(args), cwd=str(cwd), env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            yield s


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


async def call(s, name, args=None):
    """A tool's structured result; fails the test on an error result."""
    r = await s.call_tool(name, args or {})
    assert not r.is_error, f"{name}: {r.content}"
    assert r.structured_content is not None
    # The text content carries the same JSON.
    assert json.loads(r.content[0].text) == r.structured_content
    return r.structured_content


async def error_text(s, name, args):
    """The message of a tool call that fails, as a protocol error or an error result."""
    try:
        r = await s.call_tool(name, args)
    except McpError as e:
        return str(e)
    assert r.is_error, f"{name} {args} should fail: {r.structured_content}"
    return r.content[0].text


EXPECTED_TOOLS = {
    "list_projects", "search", "read_bucket", "read_scene", "mentions", "scene_context", "resolve_model",
    "list_pipelines", "list_runs", "run_status", "list_gates", "propose_edit", "propose_bucket",
}


def test_tools_are_listed_with_schemas(project):
    async def go():
        async with session(project) as s:
            tools = (await s.list_tools()).tools
            assert {t.name for t in tools} == EXPECTED_TOOLS
            by = {t.name: t for t in tools}
            assert by["search"].input_schema["required"] == ["query"]
            assert by["propose_edit"].annotations.read_only_hint is False
            assert by["read_bucket"].annotations.read_only_hint is True
            projects = await call(s, "list_projects")
            assert projects["projects"] == [{"project": "lighthouse", "name": "The Lighthouse", "buckets": 24, "scenes": 13}]
    run(go())


def test_reading_the_story(project):
    async def go():
        async with session(project) as s:
            # A bucket before and after its progression: Tom drowns at main 9.
            before = await call(s, "read_bucket", {"id": "tom"})
            assert before["name"] == "Tom Marlowe" and before["path"] == "buckets/characters/tom.yaml"
            assert "status: alive" in before["text"] and "Drowned" not in before["text"]
            assert before["yaml"].startswith("id: tom")
            after = await call(s, "read_bucket", {"id": "tom", "at": "main:12"})
            assert "status: dead" in after["text"] and "Drowned at the landing" in after["text"]
            at_scene = await call(s, "read_bucket", {"id": "tom", "at": "arrival"})
            assert "status: alive" in at_scene["text"]
            # A scene, by id and by path.
            scene = await call(s, "read_scene", {"scene": "arrival"})
            assert scene["path"] == "story/ch01/01-arrival.md" and scene["pov"] == "alice"
            assert "The boat from Port Ainsley" in scene["text"] and scene["words"] > 100
            counts = dict(scene["mentions"])
            assert counts["alice"] >= 3 and counts["tom"] >= 1, counts
            assert [c for _, c in scene["mentions"]] == sorted(counts.values(), reverse=True)
            assert (await call(s, "read_scene", {"scene": "story/ch01/01-arrival.md"}))["id"] == "arrival"
            # Mentions of an entity.
            m = await call(s, "mentions", {"id": "tom"})
            assert m["scenes"] >= 3
            first = m["mentions"][0]
            assert first["count"] == len(first["lines"]) and all(line >= 1 for line in first["lines"])
            assert set(first["aliases"]) <= {"Tom", "Marlowe", "Mr Marlowe", "Tom Marlowe"}
            # The context a scene gets, with reasons and the dropped list.
            ctx = await call(s, "scene_context", {"scene": "arrival", "budget": 300})
            assert ctx["budget"] == 300 and ctx["used_tokens"] <= 300
            assert ctx["items"] and all(i["reason"] for i in ctx["items"])
            assert ctx["dropped"] and all(d["reason"] for d in ctx["dropped"])
            assert ctx["markdown"].strip()
            # The model cascade.
            r = await call(s, "resolve_model", {"scene": "arrival", "pipeline": "draft-scene"})
            assert r["model"] == "local/llama3.1"
            assert [lvl["level"] for lvl in r["chain"]][:1] == ["step"]
            assert any(lvl["level"] == "project" and lvl["value"] == "local/llama3.1" for lvl in r["chain"])
            # Pipelines.
            p = await call(s, "list_pipelines")
            ids = {x["id"] for x in p["pipelines"]}
            assert {"draft-scene", "rewrite-selection", "research"} <= ids
            # No runs yet: nothing is created by reading.
            assert (await call(s, "list_runs"))["runs"] == []
            assert (await call(s, "list_gates"))["gates"] == []
            assert not (project / ".showrunner" / "runs.db").exists()
    run(go())


def test_search_finds_the_story(project):
    async def go():
        async with session(project) as s:
            r = await call(s, "search", {"query": "paraffin", "in": "story"})
            assert r["count"] > 0 and all(h["source"] == "story" for h in r["hits"])
            assert any(h["id"] == "lamp-oil" for h in r["hits"]), r
            assert all("**" in h["snippet"] for h in r["hits"])
            scenes = await call(s, "search", {"query": "telescope", "kinds": ["scene"]})
            assert scenes["hits"] and all(h["kind"] == "scene" for h in scenes["hits"])
            assert (await call(s, "search", {"query": "zzqqxx"}))["count"] == 0
    run(go())


def test_a_changed_file_is_seen_on_the_next_request(project):
    """The server keeps the project loaded between requests; a file edited, added or removed
    on disk in between is what the very next request sees (no waiting for a watcher)."""
    async def go():
        async with session(project) as s:
            tom = project / "buckets" / "characters" / "tom.yaml"
            assert (await call(s, "read_bucket", {"id": "tom"}))["name"] == "Tom Marlowe"
            # Same size, new content: the name changes length-for-length.
            text = tom.read_text()
            tom.write_text(text.replace("name: Tom Marlowe", "name: Tim Marlowe", 1))
            assert (await call(s, "read_bucket", {"id": "tom"}))["name"] == "Tim Marlowe"
            # A scene written with a new word: found by search and read as written.
            scene = project / "story" / "ch01" / "01-arrival.md"
            scene.write_text(scene.read_text() + "\nA quokka watched from the rocks.\n")
            r = await call(s, "search", {"query": "quokka", "in": "story"})
            assert [h["path"] for h in r["hits"]] == ["story/ch01/01-arrival.md"], r
            assert "quokka" in (await call(s, "read_scene", {"scene": "arrival"}))["text"]
            # A bucket added, then removed.
            new = project / "buckets" / "characters" / "wren.yaml"
            new.write_text("id: wren\nkind: character\nname: Wren Hale\n")
            assert (await call(s, "read_bucket", {"id": "wren"}))["name"] == "Wren Hale"
            new.unlink()
            assert "wren" in await error_text(s, "read_bucket", {"id": "wren"})
            # Unchanged files: the kept copy answers, and answers the same.
            again = await call(s, "read_bucket", {"id": "tom"})
            assert again["name"] == "Tim Marlowe"
    run(go())


def test_resources_and_prompts(project):
    async def go():
        async with session(project) as s:
            resources = (await s.list_resources()).resources
            uris = {str(r.uri) for r in resources}
            assert "showrunner://lighthouse/bucket/tom" in uris
            assert "showrunner://lighthouse/scene/arrival" in uris
            templates = (await s.list_resource_templates()).resource_templates
            assert any("{id}" in t.uri_template for t in templates)
            tom = await s.read_resource("showrunner://lighthouse/bucket/tom?at=main:12")
            assert "Drowned at the landing" in tom.contents[0].text
            scene = await s.read_resource("showrunner://lighthouse/scene/arrival")
            assert scene.contents[0].text.startswith("---\nid: arrival")
            for bad in ["showrunner://lighthouse/bucket/..%2F..%2Fetc", "showrunner://lighthouse/scene/../../etc/passwd",
                        "file:///etc/passwd", "showrunner://elsewhere/bucket/tom"]:
                with pytest.raises(McpError) as e:
                    await s.read_resource(bad)
                msg = str(e.value)
                assert "not an id" in msg or "not a Showrunner resource" in msg or "no project" in msg, msg
            prompts = (await s.list_prompts()).prompts
            names = {p.name for p in prompts}
            assert {"rewrite-selection", "draft-scene"} <= names
            p = await s.get_prompt("rewrite-selection", {"scene": "arrival", "selection": "The boat stood off, rose, fell."})
            text = p.messages[0].content.text
            assert "Rewrite this passage" in text and "The boat stood off, rose, fell." in text
            assert "Alice" in text  # the scene's context filled in
            with pytest.raises(McpError) as e:
                await s.get_prompt("no-such-prompt", {})
            assert "no prompt" in str(e.value)
    run(go())


def test_traversal_and_bad_input_are_refused_readably(project):
    async def go():
        async with session(project) as s:
            cases = [
                ("read_bucket", {"id": "../../etc/passwd"}, "not an id"),
                ("mentions", {"id": "/etc/passwd"}, "not an id"),
                ("read_scene", {"scene": "../../../etc/passwd"}, "outside the project"),
                ("read_scene", {"scene": "/etc/passwd"}, "outside the project"),
                ("scene_context", {"scene": "story/../../x.md"}, "outside the project"),
                ("propose_edit", {"scene": "../outside.md", "text": "x"}, "outside the project"),
                ("propose_bucket", {"id": "../../etc/passwd", "yaml": "x: 1"}, "not an id"),
                ("read_bucket", {"id": "nobody"}, "no bucket `nobody`"),
                ("read_bucket", {"id": "tomm"}, "did you mean `tom`"),
                ("read_scene", {"scene": "nowhere"}, "no scene `nowhere`"),
                ("read_bucket", {"id": "tom", "at": "main:soon"}, "not a position"),
                ("search", {}, "needs `query`"),
                ("search", {"query": 42}, "should be a string"),
                ("search", {"query": "x", "limit": "ten"}, "whole number"),
                ("search", {"query": "x", "limit": -1}, "whole number"),
                ("search", {"query": "x", "in": "everywhere"}, "story, runs or all"),
                ("search", {"query": "x", "since": "last week"}, "YYYY-MM-DD"),
                ("search", {"query": "x", "kinds": "scene"}, "array of strings"),
                ("search", {"query": "x", "kinds": [1, 2]}, "should hold strings"),
                ("search", {"query": "x", "rm -rf": True}, "takes no argument"),
                ("search", {"query": "x" * 3000}, "bytes long"),
                ("read_bucket", {"id": {"nested": ["garbage"]}}, "should be a string"),
                ("propose_edit", {"scene": "arrival", "text": "   "}, "is empty"),
                ("propose_edit", {"scene": "arrival", "text": "x", "mode": "explode"}, "explode"),
                ("propose_edit", {"scene": "arrival", "text": "x", "find": "no such passage anywhere"}, "does not occur"),
                ("propose_edit", {"scene": "arrival", "text": "x", "find": "the"}, "times in"),
                ("propose_bucket", {"summary": "no name"}, "needs `name`"),
                ("propose_bucket", {"id": "tom"}, "needs its whole new `yaml`"),
                ("resolve_model", {"pipeline": "draft-scene", "step": "nope"}, "no step `nope`"),
                ("resolve_model", {"agent": "ghost"}, "no agent `ghost`"),
                ("run_status", {"run": "nope"}, "no run"),
                ("no_such_tool", {}, "no tool `no_such_tool`"),
            ]
            for name, args, expected in cases:
                msg = await error_text(s, name, args)
                assert expected in msg, f"{name} {args}: {msg}"
            # A huge text (past 1 MiB) is refused without harm; the server still answers.
            msg = await error_text(s, "propose_edit", {"scene": "arrival", "text": "word " * 300_000})
            assert "bytes long" in msg, msg
            assert (await call(s, "read_bucket", {"id": "tom"}))["id"] == "tom"
            # Nothing of that was written or queued.
            assert not (project / ".showrunner" / "runs.db").exists() or (await call(s, "list_gates"))["gates"] == []
    run(go())


def test_api_keys_never_appear(project):
    async def go():
        env = dict(os.environ, OPENAI_API_KEY="sk-test-SECRET-VALUE-123")
        async with session(project, env=env) as s:
            r = await call(s, "resolve_model", {"scene": "arrival"})
            p = await call(s, "read_bucket", {"id": "tom"})
            ctx = await call(s, "scene_context", {"scene": "arrival"})
            for v in (r, p, ctx, await call(s, "list_pipelines")):
                assert "SECRET-VALUE" not in json.dumps(v)
    run(go())


def test_proposals_wait_for_a_human_and_the_terminal_can_answer(project):
    """No editor running: a proposal waits in runs.db; `showrunner resume --yes` approves it."""
    async def go():
        scene = project / "story/ch01/01-arrival.md"
        before = scene.read_text()
        async with session(project) as s:
            r = await call(s, "propose_bucket", {"kind": "research", "name": "Fog signals",
                                                 "summary": "Tonite charges every five minutes.", "keywords": ["fog signal"],
                                                 "why": "the fog scene needs it"})
            assert r["state"] == "waiting" and r["gate"] == "tool" and "Nothing is written yet" in r["message"]
            assert not (project / "buckets/research/fog-signals.yaml").exists()
            e = await call(s, "propose_edit", {"scene": "arrival", "find": "The boatman shouted something the wind threw away.",
                                               "text": "The boatman shouted; the wind kept it."})
            assert e["state"] == "waiting" and "replace" in e["description"].lower()
            diff = e["diff"].splitlines()
            assert any(l.startswith("-") and "The boatman shouted something the wind threw away." in l for l in diff), diff
            assert any(l.startswith("+") and "The boatman shouted; the wind kept it." in l for l in diff), diff
            assert (project / e["review"]).read_text() == "The boatman shouted; the wind kept it."
            tom = project / "buckets/characters/tom.yaml"
            tom_yaml = tom.read_text().replace("name:", "# Reviewed by the keeper.\nname:", 1)
            t = await call(s, "propose_bucket", {"id": "tom", "yaml": tom_yaml})
            changed = [l for l in t["diff"].splitlines()[2:] if l[:1] in "+-"]
            assert changed == ["+# Reviewed by the keeper."], t["diff"]
            assert scene.read_text() == before, "nothing is written before a human approves"
            gates = (await call(s, "list_gates"))["gates"]
            assert {g["run"] for g in gates} == {r["run"], e["run"], t["run"]}
            assert all(g["kind"] == "tool" for g in gates)
            runs = (await call(s, "list_runs", {"state": "waiting"}))["runs"]
            assert len(runs) == 3
            st = await call(s, "run_status", {"run": e["run"]})
            assert st["state"] == "waiting" and st["gate"]["kind"] == "tool"
        # The terminal approves both.
        assert "Reviewed by the keeper" not in tom.read_text()
        for run_id in (r["run"], e["run"], t["run"]):
            out = subprocess.run([BIN, "resume", run_id, "--yes"], cwd=project, capture_output=True, text=True)
            assert out.returncode == 0, out.stdout + out.stderr
        assert "The boatman shouted; the wind kept it." in scene.read_text()
        assert "The boatman shouted something" not in scene.read_text()
        assert "Tonite charges" in (project / "buckets/research/fog-signals.yaml").read_text()
        assert tom.read_text() == tom_yaml, "approved from the terminal: exactly the reviewed YAML"
        async with session(project) as s:
            st = await call(s, "run_status", {"run": e["run"]})
            assert st["state"] == "succeeded" and "approved" in st["answer"]
            assert (await call(s, "list_gates"))["gates"] == []
            # What the proposal said is in the project's memory.
            hits = (await call(s, "search", {"query": "wind kept", "in": "runs"}))["hits"]
            assert any(h["run"] == e["run"] for h in hits), hits
    run(go())


def test_a_proposal_waits_as_a_gate_in_a_running_language_server_and_is_approved_there(project):
    scene = project / "story/ch01/02-the-hut.md"
    before = scene.read_text()
    lsp = LspClient([BIN, "lsp"], project)

    async def propose(tool, args):
        async with session(project) as s:
            return await call(s, tool, args)

    def gate_of(run_id):
        return lsp.wait_for(lambda m: m.get("method") == "showrunner/runProgress"
                            and m["params"].get("run") == run_id and m["params"].get("event") == "gate")

    def done_of(run_id):
        return lsp.wait_for(lambda m: m.get("method") == "showrunner/runProgress"
                            and m["params"].get("run") == run_id and m["params"].get("event") == "done")

    try:
        lsp.initialize()
        edit = run(propose("propose_edit", {"scene": "the-hut-at-night", "text": "A new closing line, proposed from outside.",
                                            "why": "a stronger ending"}))
        assert scene.read_text() == before
        # The session takes it into its approval queue (at start, or from the inbox).
        view = gate_of(edit["run"])["params"]["gate"]
        assert view["kind"] == "tool" and view["text"] == "A new closing line, proposed from outside."
        assert not view.get("model_problem"), view  # a proposal calls no model: no warning about one
        assert view["edit"]["description"]
        # Proposed while the session runs: only the watcher on `.showrunner/inbox` can bring it.
        bucket = run(propose("propose_bucket", {"name": "Fog bell", "kind": "item", "summary": "Rung by hand in fog."}))
        bview = gate_of(bucket["run"])["params"]["gate"]
        assert bview["kind"] == "tool" and "Fog bell" in bview["text"]
        queue = lsp.command("showrunner.gate.list", {})
        assert {edit["run"], bucket["run"]} <= {g["run"] for g in queue}, queue
        assert not (project / "buckets/items/fog-bell.yaml").exists()
        # Approved in the editor's session: applied there, through the history.
        lsp.command("showrunner.gate.resolve", {"run": edit["run"], "step": edit["step"], "decision": "approve"})
        assert done_of(edit["run"])["params"]["state"] == "succeeded"
        after = scene.read_text()
        assert after.startswith(before.rstrip()) and after.rstrip().endswith("A new closing line, proposed from outside.")
        lsp.command("showrunner.gate.resolve", {"run": bucket["run"], "step": bucket["step"], "decision": "reject",
                                                "text": "not in this story"})
        assert done_of(bucket["run"])["params"]["state"] == "succeeded"
        assert not (project / "buckets/items/fog-bell.yaml").exists()
        assert lsp.command("showrunner.run.status", {"run": edit["run"]})["state"] == "succeeded"
    finally:
        lsp.close()

    async def check():
        async with session(project) as s:
            st = await call(s, "run_status", {"run": bucket["run"]})
            assert "rejected" in st["answer"] and "not in this story" in st["answer"]
            assert "approved" in (await call(s, "run_status", {"run": edit["run"]}))["answer"]
    run(check())


def apply_lsp_edits(text, edits):
    """`text` with LSP TextEdits applied (positions in UTF-16 code units, as LSP counts them)."""
    lines = text.splitlines(keepends=True) or [""]

    def offset(pos):
        before = sum(len(l) for l in lines[:pos["line"]])
        line = lines[pos["line"]] if pos["line"] < len(lines) else ""
        units, chars = 0, 0
        while units < pos["character"] and chars < len(line):
            units += 2 if ord(line[chars]) > 0xFFFF else 1
            chars += 1
        return before + chars

    for e in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]), reverse=True):
        a, b = offset(e["range"]["start"]), offset(e["range"]["end"])
        text = text[:a] + e["newText"] + text[b:]
    return text


def test_a_bucket_proposal_approved_in_the_editor_changes_its_open_buffer_not_the_file(project):
    """The bucket's YAML is open (with an unsaved change) in the editor whose session approves an
    MCP proposal replacing it: the review shows the change against the buffer, and approving
    changes the buffer through workspace/applyEdit; the file on disk is not written behind it.
    A proposal whose bucket changed after its review is refused, and nothing changes."""
    path = project / "buckets/characters/zoe.yaml"
    on_disk = path.read_bytes()
    uri = path.resolve().as_uri()
    buffer = on_disk.decode().replace("tags: [town]", "tags: [town, wireless]")  # typed, not saved
    proposed = buffer.replace("Keeps the wireless watch after hours.", "Keeps the wireless watch after hours; hears the Crane's last call.")
    lsp = LspClient([BIN, "lsp"], project)

    async def propose(yaml):
        async with session(project) as s:
            return await call(s, "propose_bucket", {"id": "zoe", "yaml": yaml, "why": "the last call"})

    def progress(run_id, event):
        return lsp.wait_for(lambda m: m.get("method") == "showrunner/runProgress"
                            and m["params"].get("run") == run_id and m["params"].get("event") == event)["params"]

    try:
        lsp.initialize()
        lsp.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": buffer}})
        p = run(propose(proposed))
        view = progress(p["run"], "gate")["gate"]
        # Reviewed against the buffer: the diff holds only the proposed change, not the unsaved tag.
        diff = view["edit"]["diff"].splitlines()
        changed = [l for l in diff[2:] if l[:1] in "+-"]
        assert len(changed) == 2 and "last call" in changed[1] and "hears" not in changed[0], diff
        lsp.command("showrunner.gate.resolve", {"run": p["run"], "step": p["step"], "decision": "approve"})
        edit = lsp.wait_for(lambda m: m.get("method") == "workspace/applyEdit")["params"]["edit"]
        [doc] = edit["documentChanges"]
        assert doc["textDocument"] == {"uri": uri, "version": 1}
        buffer = apply_lsp_edits(buffer, doc["edits"])
        assert buffer == proposed
        assert progress(p["run"], "done")["state"] == "succeeded"
        assert path.read_bytes() == on_disk, "a file open in the editor is never written behind its buffer"
        lsp.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                                "contentChanges": [{"text": buffer}]})

        # Proposed, shown, then the writer edits the bucket before approving: refused, untouched.
        q = run(propose(buffer.replace("seventeen", "eighteen")))
        progress(q["run"], "gate")
        typed = buffer.replace("Zoë Carrow", "Zoë Carrow-Adler")
        lsp.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                                "contentChanges": [{"text": typed}]})
        lsp.command("showrunner.gate.resolve", {"run": q["run"], "step": q["step"], "decision": "approve"})
        done = progress(q["run"], "done")
        assert done["state"] == "failed", done
        assert "changed after this proposal was shown" in lsp.command("showrunner.run.status", {"run": q["run"]})["error"]
        assert not [m for m in lsp.seen if m.get("method") == "workspace/applyEdit"]
        assert path.read_bytes() == on_disk
    finally:
        lsp.close()


def test_a_folder_of_projects_is_served_by_name():
    tmp = Path(tempfile.mkdtemp(prefix="sr-mcp-many-"))
    try:
        for name, extra in (("novel", ["--example"]), ("play", []), ("series/book", [])):
            out = subprocess.run([BIN, "init", str(tmp / name), *extra], capture_output=True, text=True)
            assert out.returncode == 0, out.stderr

        async def go():
            async with session(tmp, args=("mcp", str(tmp))) as s:
                names = [p["project"] for p in (await call(s, "list_projects"))["projects"]]
                assert names == ["novel", "play", "series-book"]
                msg = await error_text(s, "read_bucket", {"id": "tom"})
                assert "several projects" in msg and "novel, play, series-book" in msg, msg
                assert (await call(s, "read_bucket", {"id": "tom", "project": "novel"}))["name"] == "Tom Marlowe"
                msg = await error_text(s, "read_bucket", {"id": "tom", "project": "../novel"})
                assert "no project `../novel`" in msg, msg
                uris = {str(r.uri) for r in (await s.list_resources()).resources}
                assert "showrunner://novel/bucket/tom" in uris
        run(go())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_garbage_on_the_wire_does_not_end_the_server(project):
    """Lines that are not JSON-RPC are skipped; the session goes on and answers the next request."""
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
    lines = [b"this is not json", json.dumps(init).encode(), b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
             b"[1,2", b"\xff\xfe\x00garbage", b"{}" * 1000,
             json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                         "params": {"name": "read_bucket", "arguments": {"id": "tom"}}}).encode()]
    proc = subprocess.Popen([BIN, "mcp", "."], cwd=project, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        proc.stdin.write(b"\n".join(lines) + b"\n")
        proc.stdin.flush()
        answers = {}
        while 2 not in answers:
            line = proc.stdout.readline()
            assert line, "the server ended"
            msg = json.loads(line)
            answers[msg.get("id")] = msg
        assert answers[1]["result"]["serverInfo"]["name"] == "showrunner"
        assert answers[2]["result"]["structuredContent"]["name"] == "Tom Marlowe"
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
