-- schema.lua, the JSON Schema checker the harness runs on every message (helpers.lua), against
-- extensions/protocol.schema.json: what passes, what fails and with which path; then the hook
-- itself, live, against the in-process server: a bad argument, a bad result and a bad
-- notification are each caught, and the plugin's good ones are counted.
local here = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h")
local H = dofile(here .. "/helpers.lua")
local schema = dofile(here .. "/schema.lua")
local fake = dofile(here .. "/fake_server.lua")

local root = schema.load()
local defs = root["$defs"]

local function progress()
  return { run = "r", pipeline = "p", state = "running", event = "text", step = "s", text = "t" }
end

--- Fails unless the check (its two results last, so neither is cut off) failed with a problem
--- containing `needles` (a string or a list of strings).
local function fails(needles, ok, err)
  H.eq(false, ok, "the check fails (" .. tostring(err) .. ")")
  H.ok(type(err) == "string", "a problem is given")
  for _, needle in ipairs(type(needles) == "table" and needles or { needles }) do
    H.contains(err, needle, "the problem")
  end
end

H.test("a valid message passes", function()
  H.ok(schema.check_notification(root, "showrunner/runProgress", progress()))
  local gate = {
    run = "r", pipeline = "p", state = "waiting", event = "gate",
    gate = { run = "r", step = "approve", kind = "approve_output", uri = "file:///x.md", pipeline = "p", model = "m", text = "t", note = vim.NIL, edit = vim.NIL },
  }
  H.ok(schema.check_notification(root, "showrunner/runProgress", gate))
  H.ok(schema.check_arguments(root, "showrunner.gate.resolve", { run = "r", step = "s", decision = "edit", text = "new", model = vim.NIL }))
  H.ok(schema.check_arguments(root, "showrunner.pipeline.run", {
    pipeline = "rewrite-selection", uri = "file:///s.md",
    range = { start = { line = 2, character = 23 }, ["end"] = { line = 2, character = 35 } },
  }))
  H.ok(schema.check_result(root, "showrunner.run.list", { { run = "r", pipeline = "p", state = "interrupted", scene = "story/a.md" } }))
  -- anyOf: either the graph or a rendering.
  H.ok(schema.check_result(root, "showrunner.graph", { format = "mermaid", text = "graph TD" }))
end)

H.test("an unknown key fails, naming it and where it is", function()
  local p = progress()
  p.surprise = 1
  fails("showrunner/runProgress: $: `surprise` is not in the schema", schema.check_notification(root, "showrunner/runProgress", p))
  fails({ "showrunner.pipeline.run arguments:", "$.range", "$.range.start: `col` is not in the schema" }, schema.check_arguments(root, "showrunner.pipeline.run", {
    pipeline = "x", uri = "file:///s.md",
    range = { start = { line = 0, character = 0, col = 0 }, ["end"] = { line = 0, character = 1 } },
  }))
end)

H.test("a wrong type fails with its path", function()
  local p = progress()
  p.run = 5
  fails("$.run: 5 is not string", schema.check_notification(root, "showrunner/runProgress", p))
  p = progress()
  p.text = true
  fails('$.text: true is none of ["string","null"]', schema.check_notification(root, "showrunner/runProgress", p))
  -- Integers: a fraction is not one, and `minimum` holds.
  fails("$.line: 1.5 is not integer", schema.check(root, defs.Position, { line = 1.5, character = 0 }))
  fails("$.line: -1 is below 0", schema.check(root, defs.Position, { line = -1, character = 0 }))
  -- In an array, the index (from 0, as the Rust checker counts).
  fails("showrunner.run.list result: $[1].scene: 7 is not string", schema.check_result(root, "showrunner.run.list", {
    { run = "a", pipeline = "p", state = "running", scene = "s" },
    { run = "b", pipeline = "p", state = "running", scene = 7 },
  }))
end)

H.test("a missing required key fails with its path", function()
  local p = progress()
  p.run = nil
  fails("$: `run` is missing", schema.check_notification(root, "showrunner/runProgress", p))
  fails("$: `open` is missing", schema.check_result(root, "showrunner.gate.resolve", { run = "r", step = "s", decision = "approve" }))
  fails("$[0]: `model` is missing", schema.check_result(root, "showrunner.gate.list", { { run = "r", step = "s", kind = "judge", uri = "u", pipeline = "p", text = "t" } }))
end)

H.test("a bad enum value fails with its path", function()
  local p = progress()
  p.state = "dancing"
  fails({ "$.state: matches none of oneOf", '"dancing" is not one of' }, schema.check_notification(root, "showrunner/runProgress", p))
  p = progress()
  p.step_state = "dancing"
  fails('$.step_state: "dancing" is not one of ["pending"', schema.check_notification(root, "showrunner/runProgress", p))
  fails("$.decision: matches none of oneOf", schema.check_arguments(root, "showrunner.gate.resolve", { run = "r", step = "s", decision = "maybe" }))
  -- const
  fails('"review" is not "review_prompt"', schema.check(root, defs.GateKind, "review"))
end)

H.test("null: vim.NIL and nil; a null the client decoded away is no missing key", function()
  local p = progress()
  p.error = vim.NIL
  p.step_state = vim.NIL
  H.ok(schema.check_notification(root, "showrunner/runProgress", p))
  fails("$: null is not object", schema.check_notification(root, "showrunner/runProgress", vim.NIL))
  fails("$: null is not object", schema.check_result(root, "showrunner.run.status", nil))
  -- `payload` is required and may be null: the client decodes `"payload": null` as no key.
  local event = { seq = 1, id = "e", timeline = "main", time = 0, actor = "writer", type = "snapshot", path = "a.md", new_version = 1 }
  H.ok(schema.check_result(root, "showrunner.history", { event }))
  -- Sent, the key must be there (as vim.NIL) to be null on the wire.
  fails("$: `payload` is missing", schema.check(root, defs.Event, event, { sent = true }))
  event.payload = vim.NIL
  H.ok(schema.check(root, defs.Event, event, { sent = true }))
  -- A required key that may not be null stays missing.
  fails("$: `state` is missing", schema.check_result(root, "showrunner.run.cancel", { run = "r" }))
end)

H.test("empty tables: vim.empty_dict() is an object, a plain {} is [] when sent and either when read", function()
  H.ok(schema.check_arguments(root, "showrunner.gate.list", vim.empty_dict()))
  fails("$: [] is not object", schema.check_arguments(root, "showrunner.gate.list", {}))
  fails("$: {} is not array", schema.check(root, { type = "array" }, vim.empty_dict()))
  -- Read: `[]` and an object whose keys were all null both decode to a plain {}.
  H.ok(schema.check_result(root, "showrunner.gate.list", {}))
  H.ok(schema.check_result(root, "showrunner.gate.list", vim.empty_dict()) == false)
  H.ok(schema.check(root, defs.UriArgs, {}, { received = true }))
  fails("$: `run` is missing", schema.check_result(root, "showrunner.run.status", {}))
end)

H.test("what the schema does not know fails", function()
  fails("the schema has no command `showrunner.nope`", schema.check_arguments(root, "showrunner.nope", vim.empty_dict()))
  fails("the schema has no notification `showrunner/nope`", schema.check_notification(root, "showrunner/nope", {}))
  fails("$: no definition Nope", schema.check(root, { ["$ref"] = "#/$defs/Nope" }, 1))
  fails("is not JSON", schema.check(root, defs.RunArgs, { run = function() end }))
end)

---------------------------------------------------------------------------------------------
-- The hook, live: the plugin against the in-process server.

local project = vim.fs.normalize(vim.fn.tempname() .. "-schema")
H.write(project .. "/showrunner.yaml", "name: Schema\ndefault_model: local/test\n")
H.write(project .. "/story/scene.md", "# One\n\nThe lamp burned on.\n")
H.setup({ cmd = fake.cmd })
local scene, client = H.open(project .. "/story/scene.md")
local lsp = require("showrunner.lsp")

local function exec(command, args)
  local done, out
  lsp.exec(command, args, function(err, result)
    done, out = true, { err = err, result = result }
  end, { bufnr = scene })
  H.wait(command, function()
    return done
  end)
  return out
end

H.test("the hook counts what the plugin sends and reads, and passes good messages", function()
  local before = vim.deepcopy(H.protocol.checked)
  local out = exec("showrunner.models.list", nil)
  H.eq(nil, out.err, "no error")
  local result = lsp.exec_sync("showrunner.run.list", { uri = vim.uri_from_bufnr(scene) }, 5000, { bufnr = scene })
  H.eq({}, result, "no runs yet")
  H.eq(before.arguments + 2, H.protocol.checked.arguments, "arguments checked")
  H.eq(before.results + 2, H.protocol.checked.results, "results checked")
  H.eq({}, H.protocol_violations(), "no mismatch")
end)

H.test("the hook catches an argument the schema does not allow", function()
  exec("showrunner.gate.list", { uri = vim.uri_from_bufnr(scene), bogus = 1 })
  local bad = H.protocol_violations()
  H.eq(1, #bad, "one mismatch: " .. vim.inspect(bad))
  H.contains(bad[1], "sent showrunner.gate.list arguments: $: `bogus` is not in the schema")
  H.contains(bad[1], '"command":"showrunner.gate.list"', "the message")
end)

H.test("the hook catches a result the schema does not allow", function()
  local good = fake.handlers["showrunner.models.list"]
  fake.handlers["showrunner.models.list"] = function()
    return { { model = "local/test" } }
  end
  local ok, err = pcall(exec, "showrunner.models.list", nil)
  fake.handlers["showrunner.models.list"] = good
  H.ok(ok, err)
  local bad = H.protocol_violations()
  H.eq(1, #bad, "one mismatch: " .. vim.inspect(bad))
  H.contains(bad[1], "read showrunner.models.list result: $[0]: `provider` is missing")
end)

H.test("the hook catches a notification the schema does not allow", function()
  local before = H.protocol.checked.notifications
  fake.progress({ run = "x-0001", pipeline = "x", state = "dancing", event = "state" })
  H.eq(before + 1, H.protocol.checked.notifications, "checked")
  local bad = H.protocol_violations()
  H.eq(1, #bad, "one mismatch: " .. vim.inspect(bad))
  H.contains(bad[1], "received showrunner/runProgress: $.state: matches none of oneOf")
  H.ok(client.initialized, "the client is still up")
end)

H.finish()
