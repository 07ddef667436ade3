-- A rewrite end to end: select a passage, `:'<,'>Showrunner rewrite`, review the prompt in the
-- floating window and approve it, watch the model's answer stream in, approve the output, and
-- find the scene rewritten (through the server's workspace/applyEdit) and the change in the
-- history. Then a second run: hidden, brought back from the queue, skipped and rejected.
-- The model is tests/nvim/model_server.py.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/helpers.lua")

local release = vim.fn.tempname() .. "-release"
local REWRITE = "He kept his feet. Zoë would have laughed; Alice had been sure he would go in."
local model = H.model_server({
  -- The first rewrite streams two pieces, then waits until the test has seen them arrive.
  {
    chunks = { "He kept his feet. ", "Zoë would have laughed; ", "Alice had been sure ", "he would go in." },
    hold_after = 2,
    wait_for = release,
  },
  { text = "Łukasz stood on the granite as if it were a tram step, and did not fall." },
  -- Third run: the chat answer (a revised prompt), the output, the regenerated output.
  { text = "Rewrite this passage in Alice's dry voice, under twenty words:\nThe boat stood off, rose, fell, stood off again." },
  { text = "The boat stood off and rose and fell, as boats do when they mean to make you wait." },
  { text = "The boat stood off, rose, fell: it took its time, like the Board." },
})
local root = H.project({ model_url = model.url })
-- The model chosen in the editor is above the whole cascade (the example's default is
-- local/llama3.1).
H.setup({ model = "local/test" })

local progress = {}
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(args)
    table.insert(progress, args.data)
  end,
})

local scene, client = H.open(root .. "/story/ch01/01-arrival.md")
local review = require("showrunner.review")
local uri = vim.uri_from_bufnr(scene)

-- Without the glass-box commands in the server every test here fails at once, saying why,
-- instead of each waiting for a window that cannot open.
local advertised = (client.server_capabilities.executeCommandProvider or {}).commands or {}
local missing = {}
for _, c in ipairs({ "showrunner.pipeline.run", "showrunner.gate.list", "showrunner.gate.resolve" }) do
  if not vim.tbl_contains(advertised, c) then
    table.insert(missing, c)
  end
end
local test = H.test
H.test = function(name, fn)
  test(name, function()
    H.ok(#missing == 0, "the server does not offer " .. table.concat(missing, ", ") .. " (" .. H.bin .. ")")
    fn()
  end)
end

local function state()
  return review.current
end

local function float_text()
  local s = state()
  return s and s.buf and vim.api.nvim_buf_is_valid(s.buf) and H.text(s.buf) or ""
end

local function footer_text(win)
  local f = vim.api.nvim_win_get_config(win).footer
  if type(f) == "table" then
    local parts = {}
    for _, chunk in ipairs(f) do
      table.insert(parts, type(chunk) == "table" and chunk[1] or chunk)
    end
    return table.concat(parts)
  end
  return f or ""
end

local function wait_gate(kind)
  return H.wait("the review window at a " .. kind .. " gate", function()
    local s = state()
    return s and s.mode == "gate" and s.kind == kind and s.win and vim.api.nvim_win_is_valid(s.win) and s
  end)
end

--- Selects the whole line holding `needle` in Visual mode and types `:Showrunner rewrite`.
local function rewrite_line(needle)
  vim.api.nvim_set_current_buf(scene)
  local row = H.find(scene, needle)
  vim.api.nvim_win_set_cursor(0, { row + 1, 0 })
  H.keys("v$")
  H.keys(":Showrunner rewrite<CR>")
end

local ORIGINAL = "He did not fall. She had been certain he would."

local first_run

H.test("rewrite: the prompt gate opens in a floating window with the keys in its footer", function()
  rewrite_line(ORIGINAL)
  local s = wait_gate("review_prompt")
  first_run = s.run
  H.eq(s.win, vim.api.nvim_get_current_win(), "the review window has the focus")
  H.ok(vim.api.nvim_win_get_config(s.win).relative ~= "", "a floating window")
  local footer = footer_text(s.win)
  for _, key in ipairs({ "ga approve", "gs skip", "gm model", "gp paste", "gc chat", "gr regenerate", "gx reject" }) do
    H.contains(footer, key, "footer")
  end
  H.contains(float_text(), ORIGINAL, "the prompt holds the selection")
  H.ok(vim.bo[s.buf].modifiable, "the prompt can be edited")
end)

H.test("rewrite: the edited prompt is approved and the answer streams in live", function()
  local s = state()
  vim.api.nvim_buf_set_lines(s.buf, -1, -1, false, { "Keep it under twenty words; mention Zoë." })
  H.keys("ga")
  -- The model has sent two pieces and waits: they must already be on screen.
  H.wait("the first streamed pieces", function()
    local cur = state()
    return cur and cur.mode == "stream" and float_text() == "He kept his feet. Zoë would have laughed; "
  end)
  H.write(release, "go")
  local gate = wait_gate("approve_output")
  H.eq(REWRITE, vim.trim(float_text()), "the output under review")
  H.eq(gate.win, vim.api.nvim_get_current_win(), "focus on the output gate")
  -- The model was asked with the edited prompt.
  local req = model and H.model_requests(model)[1]
  H.ok(req, "the model server got a request")
  H.contains(vim.json.encode(req.body.messages), "Keep it under twenty words; mention Zo", "edited prompt sent")
  H.eq("test", req.body.model, "the editor's model, local/test")
end)

H.test("rewrite: approving the output rewrites the scene through workspace/applyEdit", function()
  H.keys("ga")
  H.wait("the rewritten passage in the scene buffer", function()
    return H.text(scene):find(REWRITE, 1, true)
  end)
  H.ok(not H.text(scene):find(ORIGINAL, 1, true), "the original passage is gone")
  H.contains(H.text(scene), "The wind dropped for a moment", "the rest of the scene is intact")
  H.wait("the review window to close", function()
    return state() == nil
  end)
  H.wait("the run's done notification", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("rewrite%-selection succeeded") then
        return true
      end
    end
  end)
end)

H.test("rewrite: the edit waits in the unsaved buffer; :write puts it in the history", function()
  -- The server never writes a file open in the editor: the disk holds the scene as it was.
  H.ok(vim.bo[scene].modified, "the buffer is modified, not saved")
  H.ok(H.read(root .. "/story/ch01/01-arrival.md"):find(ORIGINAL, 1, true), "the disk still has the original passage")
  for _, e in ipairs(H.exec(client, "showrunner.history", { uri = uri })) do
    H.ok(e.type ~= "apply_edit", "no apply_edit before the save: " .. vim.inspect(e))
  end
  vim.api.nvim_buf_call(scene, function()
    vim.cmd("silent write")
  end)
  H.wait("the recorded notification", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("the edit of rewrite%-selection is in the history") then
        return true
      end
    end
  end)
  local applied = H.wait("an apply_edit event", function()
    for _, e in ipairs(H.exec(client, "showrunner.history", { uri = uri })) do
      if e.type == "apply_edit" then
        return e
      end
    end
  end)
  H.eq("pipeline:" .. first_run, applied.actor, "the run is the actor")
  local log = H.sr({ "log", "story/ch01/01-arrival.md" }, false, root)
  H.contains(log, "apply_edit", "showrunner log")
end)

H.test("progress: the run reported LspProgress for the Showrunner client", function()
  local seen = false
  for _, p in ipairs(progress) do
    if p.client_id == client.id and p.params and p.params.value and p.params.value.kind == "begin" then
      -- Any work-done progress but the start-up indexing: the run's.
      seen = seen or not (p.params.value.title or ""):lower():find("indexing", 1, true)
    end
  end
  H.ok(seen, "an LspProgress begin for the rewrite: " .. vim.inspect(progress))
end)

H.test("second run: hide the gate, bring it back from the queue, skip, then reject", function()
  local before = H.text(scene)
  rewrite_line("The boat stood off, rose, fell")
  local s = wait_gate("review_prompt")
  local run = s.run
  H.keys("q")
  H.eq(nil, state(), "the window is hidden")
  vim.ui.select = function(items, _, on_choice)
    for _, g in ipairs(items) do
      if g.run == run then
        return on_choice(g)
      end
    end
    on_choice(nil)
  end
  vim.cmd("Showrunner queue")
  s = wait_gate("review_prompt")
  H.eq(run, s.run, "the same run came back")
  H.keys("gs")
  wait_gate("approve_output")
  H.contains(float_text(), "Łukasz stood on the granite", "the second answer")
  vim.ui.input = function(_, on_confirm)
    on_confirm("too tidy for the scene")
  end
  H.keys("gx")
  H.wait("the run to fail with the reason", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("too tidy for the scene", 1, true) then
        return true
      end
    end
  end)
  H.wait("the window to close", function()
    return state() == nil
  end)
  local status = H.exec(client, "showrunner.run.status", { run = run })
  H.eq("failed", status.state, "run state")
  H.eq(before, H.text(scene), "the scene is unchanged")
end)

H.test("third run: chat revises the prompt, regenerate replaces the output, approve applies it", function()
  rewrite_line("The boat stood off, rose, fell")
  local s = wait_gate("review_prompt")
  local run = s.run
  vim.api.nvim_buf_set_lines(s.buf, 0, 0, false, { ">> Make it Alice's voice, dry, under twenty words." })
  H.keys("gc")
  H.wait("the revised prompt at the same gate", function()
    local cur = state()
    return cur and cur.run == run and cur.mode == "gate" and float_text():find("Alice's dry voice", 1, true)
  end)
  H.ok(not float_text():find(">>", 1, true), "the message is not part of the prompt")
  local chat = H.model_requests(model)[3]
  H.contains(vim.json.encode(chat.body.messages), "Make it Alice", "the chat message reached the model")
  H.keys("ga")
  wait_gate("approve_output")
  H.eq("The boat stood off and rose and fell, as boats do when they mean to make you wait.", vim.trim(float_text()))
  H.keys("gr")
  H.wait("the regenerated output", function()
    local cur = state()
    return cur and cur.mode == "gate" and cur.kind == "approve_output"
      and vim.trim(float_text()) == "The boat stood off, rose, fell: it took its time, like the Board."
  end)
  H.keys("ga")
  H.wait("the regenerated text in the scene", function()
    return H.text(scene):find("it took its time, like the Board.", 1, true)
  end)
  H.wait("the window to close", function()
    return state() == nil
  end)
end)

H.test(":Showrunner runs lists the runs and shows one's steps", function()
  vim.api.nvim_set_current_buf(scene)
  local offered
  vim.ui.select = function(items, opts, on_choice)
    offered = vim.tbl_map(opts.format_item, items)
    for _, r in ipairs(items) do
      if r.state == "failed" then
        return on_choice(r)
      end
    end
    on_choice(nil)
  end
  vim.cmd("Showrunner runs")
  local text = H.wait("the run's status window", function()
    local t = H.text(vim.api.nvim_get_current_buf())
    return vim.api.nvim_win_get_config(0).relative ~= "" and t:find("steps", 1, true) and t
  end)
  H.eq(3, #offered, "three runs: " .. vim.inspect(offered))
  H.contains(text, "state     failed")
  H.contains(text, "too tidy for the scene", "the reason")
  H.contains(text, "rewrite")
  vim.cmd("close")
end)

H.finish()
