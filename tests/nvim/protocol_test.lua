-- The plugin's side of extensions/PROTOCOL.md, against an in-process server (fake_server.lua):
-- the range sent for a Unicode selection, every key of the review window (approve, chat with
-- `>>` lines or a question, change model, regenerate, paste, reject, cancel, close), streamed
-- text, the statusline, and `:Showrunner draft`/`continue` arguments.
local here = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h")
local H = dofile(here .. "/helpers.lua")
local fake = dofile(here .. "/fake_server.lua")

local root = vim.fs.normalize(vim.fn.tempname() .. "-fake")
H.write(root .. "/showrunner.yaml", "name: Fake\ndefault_model: local/test\n")
H.write(root .. "/story/scene.md", table.concat({
  "# Arrival",
  "",
  '"Miss Marlowe?" Nowak. Łukasz Nowak. Inspector of Lights.',
  "",
  "Zoë sent the way she talked, quickly and a little ahead of herself.",
  "",
}, "\n"))

H.setup({ cmd = fake.cmd, model = "local/fast" })
local scene, client = H.open(root .. "/story/scene.md")
local review = require("showrunner.review")

local function s()
  return review.current
end

local function float_text()
  local cur = s()
  return cur and cur.buf and vim.api.nvim_buf_is_valid(cur.buf) and H.text(cur.buf) or ""
end

local function wait_gate(kind, what)
  return H.wait(what or ("a " .. kind .. " gate"), function()
    local cur = s()
    return cur and cur.mode == "gate" and cur.kind == kind and cur.win and vim.api.nvim_win_is_valid(cur.win) and cur
  end)
end

local function last_command(name)
  for i = #fake.commands, 1, -1 do
    if fake.commands[i].command == name then
      return fake.commands[i].args
    end
  end
end

--- Selects `needle` (charwise) and types `:Showrunner rewrite`.
local function rewrite(needle)
  vim.api.nvim_set_current_buf(scene)
  local row, col = H.find(scene, needle)
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  -- Move to the needle's last character, counted in characters (not bytes).
  local chars = vim.fn.strchars(needle)
  H.keys("v" .. (chars > 1 and ((chars - 1) .. "l") or ""))
  H.keys(":Showrunner rewrite<CR>")
  return row, col
end

H.test("the client speaks utf-16 here, and the selection's range is in utf-16 units", function()
  H.eq("utf-16", client.offset_encoding, "encoding")
  fake.selection = "Łukasz Nowak"
  rewrite("Łukasz Nowak")
  local args = H.wait("pipeline.run", function()
    return last_command("showrunner.pipeline.run")
  end)
  H.eq("rewrite-selection", args.pipeline, "pipeline")
  H.eq(vim.uri_from_bufnr(scene), args.uri, "uri")
  H.eq("local/fast", args.model, "the model from setup{}")
  -- `"Miss Marlowe?" Nowak. ` is 23 UTF-16 units (and 23 bytes); the selection is 12
  -- characters (13 bytes: Ł takes two).
  H.eq({ start = { line = 2, character = 23 }, ["end"] = { line = 2, character = 35 } }, args.range, "range")
end)

H.test("the prompt gate: floating window, text from the review document, keys in the footer", function()
  local cur = wait_gate("review_prompt")
  H.eq("Rewrite this passage:\nŁukasz Nowak", float_text(), "prompt")
  H.eq(cur.win, vim.api.nvim_get_current_win(), "focused")
  H.contains(vim.inspect(vim.api.nvim_win_get_config(cur.win).footer), "ga approve")
  H.contains(require("showrunner").statusline(), "rewrite-selection: waiting", "statusline")
end)

H.test("chat: `>>` lines are the message and the revised prompt replaces the text", function()
  local cur = s()
  vim.api.nvim_buf_set_lines(cur.buf, -1, -1, false, { ">> make it colder, like the sea" })
  H.keys("gc")
  H.wait("the revised prompt", function()
    return float_text() == "Revised after: make it colder, like the sea"
  end)
  local r = fake.last_resolve()
  H.eq({ run = cur.run, step = "review", decision = "chat", text = "make it colder, like the sea" }, r, "resolve")
  wait_gate("review_prompt", "the gate to stay open")
end)

H.test("chat without `>>` lines asks for the message", function()
  vim.ui.input = function(_, on_confirm)
    on_confirm("shorter, please")
  end
  H.keys("gc")
  H.wait("the second revision", function()
    return float_text() == "Revised after: shorter, please"
  end)
end)

H.test("change model: picked with vim.ui.select from models.list, shown in the title", function()
  local offered
  vim.ui.select = function(items, _, on_choice)
    offered = items
    on_choice("local/other")
  end
  H.keys("gm")
  H.wait("the new model in the title", function()
    local cur = s()
    return cur and cur.mode == "gate" and vim.inspect(vim.api.nvim_win_get_config(cur.win).title):find("local/other", 1, true)
  end)
  H.ok(vim.tbl_contains(offered, "local/fast") and vim.tbl_contains(offered, "local/test"), vim.inspect(offered))
  H.eq("change_model", fake.last_resolve().decision)
  H.eq("local/other", fake.last_resolve().model)
end)

H.test("approve: the edited prompt is sent, the answer streams, the output gate opens", function()
  fake.answers = { "A colder line by {model}.", "Second try by {model}.", "Third, by {model}." }
  fake.model_calls = 0
  local cur = s()
  vim.api.nvim_buf_set_lines(cur.buf, -1, -1, false, { "Coldly." })
  local streamed = {}
  local au = vim.api.nvim_create_autocmd("User", {
    pattern = "ShowrunnerRun",
    callback = function(a)
      if a.data.event == "text" then
        table.insert(streamed, float_text())
      end
    end,
  })
  H.keys("ga")
  wait_gate("approve_output")
  vim.api.nvim_del_autocmd(au)
  H.eq("Revised after: shorter, please\nColdly.", fake.last_resolve().text, "edited prompt")
  H.eq("A colder line by local/other.", float_text(), "output under review")
  -- The window showed the answer growing, piece by piece.
  H.eq({ "A ", "A colder ", "A colder line ", "A colder line by ", "A colder line by local/other." }, streamed, "live text")
end)

H.test("regenerate: the output is generated again and shown", function()
  H.keys("gr")
  H.wait("the regenerated output", function()
    local cur = s()
    return cur and cur.mode == "gate" and float_text() == "Second try by local/other."
  end)
end)

H.test("change model at the output gate generates again with it", function()
  vim.ui.select = function(_, _, on_choice)
    on_choice("local/test")
  end
  H.keys("gm")
  H.wait("the output by local/test", function()
    local cur = s()
    return cur and cur.mode == "gate" and float_text() == "Third, by local/test."
  end)
end)

H.test("approve the output: the server's workspace/applyEdit changes the scene", function()
  H.keys("ga")
  H.wait("the scene rewritten", function()
    return H.text(scene):find('"Miss Marlowe?" Nowak. Third, by local/test.. Inspector of Lights.', 1, true)
  end)
  H.wait("the window closed", function()
    return s() == nil
  end)
  H.eq("", require("showrunner.runs").status(), "no active run")
end)

H.test("paste: the clipboard's text is the answer, then approved into the scene", function()
  fake.selection = "Zoë"
  rewrite("Zoë")
  wait_gate("review_prompt")
  vim.fn.setreg('"', "Zoë, always Zoë")
  H.keys("gp")
  H.eq("paste", fake.last_resolve().decision)
  H.eq("Zoë, always Zoë", fake.last_resolve().text)
  wait_gate("approve_output")
  H.eq("Zoë, always Zoë", float_text(), "pasted answer under review")
  H.keys("ga")
  H.wait("the pasted text in the scene", function()
    return H.text(scene):find("Zoë, always Zoë sent the way", 1, true)
  end)
end)

H.test("close hides the gate; the queue brings it back; reject asks for the reason", function()
  rewrite("quickly")
  local cur = wait_gate("review_prompt")
  local run = cur.run
  H.keys("q")
  H.eq(nil, s(), "hidden")
  vim.ui.select = function(items, opts, on_choice)
    H.eq("Approval queue", opts.prompt)
    on_choice(items[1])
  end
  vim.cmd("Showrunner queue")
  cur = wait_gate("review_prompt", "the gate from the queue")
  H.eq(run, cur.run, "same run")
  vim.ui.input = function(_, on_confirm)
    on_confirm("not this one")
  end
  H.keys("gx")
  H.eq({ run = run, step = "review", decision = "reject", text = "not this one" }, fake.last_resolve(), "reject")
  H.wait("the failure with the reason", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("failed: not this one", 1, true) then
        return true
      end
    end
  end)
  H.wait("the window closed", function()
    return s() == nil
  end)
end)

H.test("cancel from the review window", function()
  rewrite("ahead")
  local cur = wait_gate("review_prompt")
  H.keys("<C-c>")
  H.eq({ run = cur.run }, last_command("showrunner.run.cancel"), "run.cancel")
  H.wait("the cancelled notification", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("rewrite%-selection cancelled") then
        return true
      end
    end
  end)
  H.eq(nil, s(), "closed")
end)

H.test(":Showrunner draft and continue start their pipelines without a range", function()
  vim.api.nvim_set_current_buf(scene)
  vim.cmd("Showrunner draft")
  local args = H.wait("draft-scene", function()
    local a = last_command("showrunner.pipeline.run")
    return a and a.pipeline == "draft-scene" and a
  end)
  H.eq(nil, args.range, "no range")
  H.eq("local/fast", args.model)
  wait_gate("review_prompt")
  H.keys("<C-c>")
  vim.api.nvim_set_current_buf(scene)
  vim.cmd("Showrunner continue")
  args = H.wait("continue-scene", function()
    local a = last_command("showrunner.pipeline.run")
    return a and a.pipeline == "continue-scene" and a
  end)
  H.eq(nil, args.range, "no range")
  wait_gate("review_prompt")
  H.keys("<C-c>")
  vim.api.nvim_set_current_buf(scene)
  vim.cmd("3Showrunner continue")
  args = H.wait("continue-scene from line 3", function()
    local a = last_command("showrunner.pipeline.run")
    return a and a.range and a
  end)
  H.eq(2, args.range.start.line, "from the given line")
end)

H.test(":Showrunner research: the words given, else the selection, else asked", function()
  vim.api.nvim_set_current_buf(scene)
  vim.cmd("Showrunner research how was lamp oil rationed in 1893")
  H.eq({ question = "how was lamp oil rationed in 1893", uri = vim.uri_from_bufnr(scene) }, last_command("showrunner.research"))
  local row, col = H.find(scene, "Inspector of Lights")
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  H.keys("v" .. (#"Inspector of Lights" - 1) .. "l")
  H.keys(":Showrunner research<CR>")
  H.eq("Inspector of Lights", last_command("showrunner.research").question, "from the selection")
  vim.ui.input = function(opts, on_confirm)
    H.eq("Research: ", opts.prompt)
    on_confirm("Morse speed of a good telegraphist")
  end
  vim.cmd("Showrunner research")
  H.eq("Morse speed of a good telegraphist", last_command("showrunner.research").question, "asked")
  H.wait("the started notification", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("research started", 1, true) then
        return true
      end
    end
  end)
end)

H.test(":Showrunner ask sends the text and the selection, and names the agent", function()
  vim.api.nvim_set_current_buf(scene)
  local row, col = H.find(scene, "Zoë")
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  H.keys("vll")
  H.keys(":Showrunner ask make her dialogue sharper<CR>")
  local args = last_command("showrunner.agent.ask")
  H.eq("make her dialogue sharper", args.text)
  H.eq({ start = { line = row, character = 0 }, ["end"] = { line = row, character = 3 } }, args.range, "Zoë is 3 UTF-16 units")
  H.wait("the agent named", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("dialogue-doctor is on it", 1, true) then
        return true
      end
    end
  end)
end)

H.test(":Showrunner cancel picks among the active runs", function()
  vim.api.nvim_set_current_buf(scene)
  vim.cmd("Showrunner draft")
  local cur = wait_gate("review_prompt")
  H.keys("q")
  local offered
  vim.ui.select = function(items, _, on_choice)
    offered = items
    for _, r in ipairs(items) do
      if r.run == cur.run then
        return on_choice(r)
      end
    end
    on_choice(nil)
  end
  vim.cmd("Showrunner cancel")
  H.wait("run.cancel", function()
    local a = last_command("showrunner.run.cancel")
    return a and a.run == cur.run
  end)
  for _, r in ipairs(offered) do
    H.ok(r.state ~= "cancelled" and r.state ~= "succeeded" and r.state ~= "failed", "only active runs offered: " .. vim.inspect(offered))
  end
  H.wait("the run cancelled", function()
    return fake.runs[cur.run].state == "cancelled"
  end)
  H.ok(not vim.tbl_contains(vim.fn.getcompletion("Showrunner cancel ", "cmdline"), cur.run), "a cancelled run is not completed")
end)

H.test("without a border the keys go to the window bar", function()
  require("showrunner.config").options.review.border = "none"
  rewrite("talked")
  local cur = wait_gate("review_prompt")
  H.contains(vim.wo[cur.win].winbar, "ga approve", "winbar")
  H.keys("<C-c>")
  H.wait("closed", function()
    return s() == nil
  end)
  require("showrunner.config").options.review.border = "rounded"
end)

H.test(":Showrunner rewrite without a selection is an error", function()
  vim.api.nvim_set_current_buf(scene)
  local n = #fake.commands
  vim.cmd("Showrunner rewrite")
  H.contains(H.notes[#H.notes].msg, "rewrite needs a selection")
  H.eq(n, #fake.commands, "nothing sent")
end)

--- The panel above the text: its lines, and the highlight group of each row (0-based).
local function panel()
  local cur = s()
  if not (cur and cur.info_win and vim.api.nvim_win_is_valid(cur.info_win)) then
    return nil
  end
  local buf = vim.api.nvim_win_get_buf(cur.info_win)
  local groups = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, -1, 0, -1, { details = true })) do
    groups[m[2]] = m[4].line_hl_group or m[4].hl_group
  end
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false), groups, cur.info_win
end

local EDIT = {
  path = "story/scene.md",
  mode = "replace",
  description = "replaces the selection on line 5 of scene.md",
  diff = table.concat({
    "--- a/story/scene.md",
    "+++ b/story/scene.md",
    "@@ -5 +5 @@",
    "-Zoë sent the way she talked, quickly and a little ahead of herself.",
    "+Zoë sent fast, as she talked.",
    "",
  }, "\n"),
  first_line = 5,
  last_line = 5,
  old_text = "Zoë sent the way she talked, quickly and a little ahead of herself.",
  new_text = "Zoë sent fast, as she talked.",
}

H.test("the output gate says what approving does: the note as a warning, the edit in words, the diff", function()
  fake.output_gate = { edit = EDIT, note = "the answer was cut at the token limit" }
  fake.answers = { "Zoë sent fast, as she talked." }
  fake.model_calls = 0
  fake.selection = "Zoë sent"
  rewrite("Zoë sent")
  local cur = wait_gate("review_prompt")
  H.eq(nil, panel(), "a prompt gate changes no file: no panel")
  H.keys("ga")
  cur = wait_gate("approve_output")
  H.wait("the panel", panel)
  local lines, groups, win = panel()
  H.eq({
    "⚠ the answer was cut at the token limit",
    "Approving: replaces the selection on line 5 of scene.md",
    "--- a/story/scene.md",
    "+++ b/story/scene.md",
    "@@ -5 +5 @@",
    "-Zoë sent the way she talked, quickly and a little ahead of herself.",
    "+Zoë sent fast, as she talked.",
  }, lines, "panel lines")
  H.eq("WarningMsg", groups[0], "the note is a warning")
  H.eq("DiffDelete", groups[5], "removed line")
  H.eq("DiffAdd", groups[6], "added line")
  -- The panel sits above the text, inside the same area; the text keeps the focus.
  local p, t = vim.api.nvim_win_get_position(win), vim.api.nvim_win_get_position(cur.win)
  H.ok(p[1] < t[1], "panel above the text: " .. vim.inspect({ p, t }))
  H.eq(cur.win, vim.api.nvim_get_current_win(), "focus stays on the text")
  H.eq("Zoë sent fast, as she talked.", float_text(), "the buffer holds only the text under review")
  H.contains(vim.inspect(vim.api.nvim_win_get_config(cur.win).footer), "gd diff", "footer")
  -- Editing the output: the diff shows it as it was, and the panel says so.
  H.keys("A Quickly.<Esc>")
  H.wait("the panel to say the text was edited", function()
    local l = panel()
    return l and vim.tbl_contains(l, "You edited the text: approving plans the edit again with it (the diff shows it as it was).")
  end)
end)

H.test("gd opens the gate's .diff (showrunner.gate.diff); q goes back to the review", function()
  local cur = s()
  H.keys("gd")
  H.eq({ run = cur.run, step = "approve" }, last_command("showrunner.gate.diff"), "gate.diff")
  local d = H.wait("the diff window with the focus", function()
    local v = review.diff
    return v and v.win and vim.api.nvim_win_is_valid(v.win) and vim.api.nvim_get_current_win() == v.win and v
  end)
  H.eq(vim.split(EDIT.diff:gsub("\n$", ""), "\n"), vim.api.nvim_buf_get_lines(d.buf, 0, -1, false), "the .diff")
  H.eq("diff", vim.bo[d.buf].filetype, "diff highlighting")
  H.eq("nofile", vim.bo[d.buf].buftype, "not a file buffer")
  H.ok(d.path and d.path:match("/approve%.diff$"), "read from the file beside the review document: " .. tostring(d.path))
  H.eq(1, #vim.tbl_filter(function(w)
    return vim.api.nvim_win_get_buf(w) == d.buf
  end, vim.api.nvim_list_wins()), "one diff window, though the server also sent showDocument")
  H.keys("q")
  H.eq(nil, review.diff, "closed")
  H.eq(cur.win, vim.api.nvim_get_current_win(), "back in the review window")
  H.keys("<C-c>")
  H.wait("closed", function()
    return s() == nil
  end)
  H.ok(not (cur.info_win and vim.api.nvim_win_is_valid(cur.info_win)), "the panel closed with the window")
  fake.output_gate = nil
end)

H.test("a resume gate: the question read-only; gx cancels the run without asking", function()
  local run = fake.resume("draft-scene", root)
  local cur = wait_gate("resume")
  H.eq(run.run, cur.run, "the interrupted run")
  H.contains(float_text(), "was interrupted", "the server's question")
  H.ok(not vim.bo[cur.buf].modifiable, "read-only")
  local footer = vim.inspect(vim.api.nvim_win_get_config(cur.win).footer)
  H.contains(footer, "ga resume", "footer")
  H.contains(footer, "gx cancel the run", "footer")
  H.ok(not footer:find("gp paste", 1, true), "no paste at a resume gate: " .. footer)
  H.contains(vim.inspect(vim.api.nvim_win_get_config(cur.win).title), "interrupted", "title")
  H.keys("gp")
  H.eq(nil, fake.last_resolve().run == run.run and fake.last_resolve() or nil, "paste sends nothing")
  vim.ui.input = function()
    error("no reason is asked to cancel an interrupted run")
  end
  H.keys("gx")
  H.eq({ run = run.run, step = "resume", decision = "reject", text = "cancelled in the editor" }, fake.last_resolve())
  H.wait("the run cancelled", function()
    return fake.runs[run.run].state == "cancelled" and s() == nil
  end)
end)

H.test("a resume gate: ga resumes the run", function()
  local run = fake.resume("draft-scene", root)
  wait_gate("resume")
  H.keys("ga")
  H.eq({ run = run.run, step = "resume", decision = "approve" }, fake.last_resolve())
  H.wait("the run resumed and finished", function()
    return fake.runs[run.run].state == "succeeded"
  end)
end)

H.test("a recorded event: the saved edit is in the history (or why not)", function()
  fake.progress({ run = "rewrite-selection-0001", pipeline = "rewrite-selection", state = "succeeded", event = "recorded", plan = "p1", history_event = "rewrite-selection-0001-apply", error = vim.NIL })
  H.wait("the notification", function()
    local n = H.notes[#H.notes]
    return n and n.msg == "Showrunner: the edit of rewrite-selection is in the history (rewrite-selection-0001-apply)"
  end)
  fake.progress({ run = "rewrite-selection-0001", pipeline = "rewrite-selection", state = "succeeded", event = "recorded", plan = "p1", history_event = vim.NIL, error = "database is locked" })
  H.wait("the warning", function()
    local n = H.notes[#H.notes]
    return n and n.level == vim.log.levels.WARN and n.msg:find("not in the history: database is locked", 1, true)
  end)
  H.eq("succeeded", require("showrunner.runs").by_id["rewrite-selection-0001"].state, "the run's state is unchanged")
end)

H.finish()
