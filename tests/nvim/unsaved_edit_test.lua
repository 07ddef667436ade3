-- A writer's report, end to end against the real server: open story/ch01/02-the-hut.md, change a
-- line without saving, run the code action "Showrunner: Rewrite" on a paragraph, approve the
-- prompt, read what approving the output does (the description and the diff above the text),
-- paste an answer at the output gate. The server must not write the file (no W12 "changed on
-- disk"): the edit lands in the buffer through workspace/applyEdit, versioned, as one undo step,
-- and is recorded in the history when the writer saves. The model is tests/nvim/model_server.py.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/helpers.lua")

local ANSWER = "He kept the telephones on when the door opened. Port Ainsley was sending, and Zoë's Morse ran ahead of itself, laughing."
local PASTED = "The door opened; he kept the telephones on. Zoë was sending from Port Ainsley, quick as her talk, the laugh in every letter."
local model = H.model_server({ { text = ANSWER } })
local root = H.project({ model_url = model.url })
H.setup({ model = "local/test" })

local file = root .. "/story/ch01/02-the-hut.md"
local on_disk = H.read(file)

-- Everything that would tell of the file changing under the buffer.
local changed_shell = {}
vim.api.nvim_create_autocmd({ "FileChangedShell", "FileChangedShellPost", "FileChangedRO" }, {
  callback = function(a)
    table.insert(changed_shell, { event = a.event, file = a.file })
    vim.v.fcs_choice = "" -- never prompt in a headless test
  end,
})
vim.v.warningmsg = ""
vim.cmd("messages clear")

-- Every workspace/applyEdit the server sends, and the answer the plugin gave.
local lsp = require("showrunner.lsp")
local applied = {}
local apply = lsp.apply_edit
lsp.apply_edit = function(err, params, ctx)
  local answer = apply(err, params, ctx)
  table.insert(applied, { params = params, answer = answer })
  return answer
end

local scene, client = H.open(file)
local review = require("showrunner.review")
local uri = vim.uri_from_bufnr(scene)

local PARAGRAPH = "He had the telephones over his ears when the door opened, and he did not take them off."
local OLD_LINE = "BAROMETER 29.1 FALLING, he wrote."
local NEW_LINE = "BAROMETER 28.7 AND FALLING FAST, he wrote, and underlined it."

local function state()
  return review.current
end

local function wait_gate(kind)
  return H.wait("the review window at a " .. kind .. " gate", function()
    local s = state()
    return s and s.mode == "gate" and s.kind == kind and s.win and vim.api.nvim_win_is_valid(s.win) and s
  end)
end

local function messages()
  return vim.api.nvim_exec2("messages", { output = true }).output
end

local run, gate

H.test("the client declares versioned workspace edits (documentChanges)", function()
  H.eq(true, vim.tbl_get(client.capabilities, "workspace", "workspaceEdit", "documentChanges"), "documentChanges")
  H.eq(true, vim.tbl_get(client.capabilities, "workspace", "applyEdit"), "applyEdit")
end)

H.test("a line changed without saving, then the Rewrite code action on a paragraph", function()
  vim.api.nvim_set_current_buf(scene)
  local row = H.find(scene, OLD_LINE)
  vim.api.nvim_win_set_cursor(0, { row + 1, 0 })
  H.keys("cc" .. NEW_LINE .. "<Esc>")
  H.ok(vim.bo[scene].modified, "the change is unsaved")
  H.eq(on_disk, H.read(file), "nothing saved yet")
  local prow = H.find(scene, PARAGRAPH)
  local line = vim.api.nvim_buf_get_lines(scene, prow, prow + 1, false)[1]
  local offered = {}
  vim.lsp.buf.code_action({
    range = { start = { prow + 1, 0 }, ["end"] = { prow + 1, #line - 1 } },
    filter = function(a)
      table.insert(offered, a.title)
      return a.title == "Showrunner: Rewrite"
    end,
    apply = true,
  })
  local s = wait_gate("review_prompt")
  run = s.run
  H.ok(vim.tbl_contains(offered, "Showrunner: Rewrite"), "offered: " .. vim.inspect(offered))
  H.contains(H.text(s.buf), "He had the telephones over his ears", "the prompt holds the paragraph")
  H.ok(require("showrunner.runs").by_id[run].bufnr == scene, "the run is recorded with its scene")
end)

H.test("the output gate shows the edit's description and diff lines from the gate", function()
  H.keys("ga")
  local s = wait_gate("approve_output")
  H.eq(ANSWER, vim.trim(H.text(s.buf)), "the answer under review")
  for _, g in ipairs(H.exec(client, "showrunner.gate.list", vim.empty_dict())) do
    if g.run == run then
      gate = g
    end
  end
  H.ok(gate and type(gate.edit) == "table", "the gate carries its edit: " .. vim.inspect(gate))
  H.contains(gate.edit.description, "02-the-hut.md", "description")
  H.wait("the panel above the text", function()
    return s.info_win and vim.api.nvim_win_is_valid(s.info_win)
  end)
  local buf = vim.api.nvim_win_get_buf(s.info_win)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  H.ok(vim.tbl_contains(lines, "Approving: " .. gate.edit.description), "description shown: " .. vim.inspect(lines))
  local groups = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, -1, 0, -1, { details = true })) do
    groups[m[2] + 1] = m[4].line_hl_group or m[4].hl_group
  end
  local added, removed = 0, 0
  for _, l in ipairs(vim.split(gate.edit.diff:gsub("\n$", ""), "\n", { plain = true })) do
    local at
    for i, shown in ipairs(lines) do
      if shown == l then
        at = i
      end
    end
    H.ok(at, "diff line shown: " .. l)
    if l:match("^%+[^+]") then
      added = added + 1
      H.eq("DiffAdd", groups[at], "added line highlight")
    elseif l:match("^%-[^-]") then
      removed = removed + 1
      H.eq("DiffDelete", groups[at], "removed line highlight")
    end
  end
  H.ok(added >= 1 and removed >= 1, "the diff adds and removes: " .. gate.edit.diff)
  H.contains(gate.edit.diff, "-" .. PARAGRAPH, "the diff removes the paragraph")
  -- Planned against the buffer (with the unsaved line), not the disk; the line is not changed.
  H.ok(not gate.edit.diff:find(OLD_LINE, 1, true), "the diff knows the unsaved line: " .. gate.edit.diff)
  for _, l in ipairs(vim.split(gate.edit.diff, "\n", { plain = true })) do
    H.ok(not (l:match("^[-+]") and l:find("BAROMETER", 1, true)), "the unsaved line is not part of the change: " .. l)
  end
end)

H.test("gd shows the gate's .diff, the same the gate carries", function()
  local s = state()
  H.keys("gd")
  local d = H.wait("the diff window", function()
    local v = review.diff
    return v and v.win and vim.api.nvim_win_is_valid(v.win) and vim.api.nvim_get_current_win() == v.win and v
  end)
  -- The file: a comment line saying what approving does, then the diff itself.
  H.contains(H.text(d.buf), (gate.edit.diff:gsub("\n$", "")), "the .diff file's text")
  H.contains(H.text(d.buf), gate.edit.description, "the .diff says what approving does")
  H.ok(d.path and vim.uv.fs_stat(d.path), "the .diff exists beside the review document")
  H.keys("q")
  H.eq(s.win, vim.api.nvim_get_current_win(), "back at the gate")
end)

H.test("paste at the output gate: the answer lands in the buffer, versioned, unsaved", function()
  vim.fn.setreg('"', PASTED)
  H.keys("gp")
  H.wait("the pasted answer in the scene buffer", function()
    return H.text(scene):find(PASTED, 1, true)
  end)
  H.wait("the run to end", function()
    return state() == nil and require("showrunner.runs").by_id[run].state == "succeeded"
  end)
  H.eq(1, #applied, "one workspace/applyEdit")
  local change = applied[1].params.edit.documentChanges and applied[1].params.edit.documentChanges[1]
  H.ok(change, "documentChanges: " .. vim.inspect(applied[1].params.edit))
  H.eq(uri, change.textDocument.uri, "the scene")
  H.eq("number", type(change.textDocument.version), "a versioned edit")
  H.eq(true, applied[1].answer.applied, "applied")
end)

H.test("after approving: disk untouched, buffer has both changes and is modified, no W12", function()
  -- The editor checks files when it regains focus; do so now.
  vim.api.nvim_buf_call(scene, function()
    vim.cmd("checktime")
  end)
  H.eq(on_disk, H.read(file), "the file on disk is byte-for-byte unchanged")
  local text = H.text(scene)
  H.contains(text, NEW_LINE, "the unsaved line")
  H.contains(text, PASTED, "the rewrite")
  H.ok(not text:find(PARAGRAPH, 1, true), "the old paragraph is gone")
  H.ok(not text:find(OLD_LINE, 1, true), "the old line is gone")
  H.eq(true, vim.bo[scene].modified, "modified")
  H.eq({}, changed_shell, "FileChangedShell never fired")
  H.ok(not vim.v.warningmsg:find("W12", 1, true) and not vim.v.warningmsg:lower():find("changed", 1, true), "v:warningmsg: " .. vim.v.warningmsg)
  local m = messages()
  for _, bad in ipairs({ "W12", "W11", "changed on disk", "has changed since editing started", "newer than edits" }) do
    H.ok(not m:find(bad, 1, true), ":messages has " .. bad .. ":\n" .. m)
  end
  H.wait("the notification that the buffer is unsaved", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("changed story/ch01/02-the-hut.md (not saved", 1, true) then
        return true
      end
    end
  end)
end)

H.test("u undoes the rewrite and only the rewrite; <C-r> brings it back", function()
  vim.api.nvim_set_current_buf(scene)
  H.keys("u")
  local text = H.text(scene)
  H.ok(not text:find(PASTED, 1, true), "the rewrite is undone")
  H.contains(text, PARAGRAPH, "the paragraph is back")
  H.contains(text, NEW_LINE, "the writer's own unsaved line stays")
  H.keys("<C-r>")
  H.contains(H.text(scene), PASTED, "redone")
end)

H.test(":write records the edit in the history as the run's apply_edit", function()
  for _, e in ipairs(H.exec(client, "showrunner.history", { uri = uri })) do
    H.ok(e.type ~= "apply_edit", "nothing recorded before the save: " .. vim.inspect(e))
  end
  vim.api.nvim_buf_call(scene, function()
    vim.cmd("silent write")
  end)
  H.eq(false, vim.bo[scene].modified, "saved")
  local disk = H.read(file)
  H.contains(disk, PASTED, "saved rewrite")
  H.contains(disk, NEW_LINE, "saved line")
  H.wait("the recorded notification", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("the edit of rewrite-selection is in the history", 1, true) then
        return true
      end
    end
  end)
  local e = H.wait("the apply_edit event", function()
    for _, ev in ipairs(H.exec(client, "showrunner.history", { uri = uri })) do
      if ev.type == "apply_edit" then
        return ev
      end
    end
  end)
  H.eq("pipeline:" .. run, e.actor, "actor")
  H.eq({}, changed_shell, "still no FileChangedShell")
end)

H.test("an edit made for an older version of the buffer is refused, not dropped", function()
  local version = vim.lsp.util.buf_versions[scene]
  H.ok(version and version > 0, "the buffer has a version")
  local before = H.text(scene)
  local function edit(v)
    return {
      label = "Showrunner: test",
      edit = {
        documentChanges = {
          {
            textDocument = { uri = uri, version = v },
            edits = { { range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 0 } }, newText = "X" } },
          },
        },
      },
    }
  end
  local answer = lsp.apply_edit(nil, edit(version - 1), { client_id = client.id })
  H.eq(false, answer.applied, "refused")
  H.contains(answer.failureReason, "changed in the editor", "reason")
  H.eq(before, H.text(scene), "the buffer is untouched")
  -- A change just made (no command since, so no undo break of Neovim's own) stays when the
  -- edit is undone.
  vim.api.nvim_buf_set_lines(scene, -1, -1, false, { "A last line, typed just now." })
  local typed = H.text(scene)
  answer = lsp.apply_edit(nil, edit(vim.lsp.util.buf_versions[scene]), { client_id = client.id })
  H.eq(true, answer.applied, "the current version applies")
  H.eq("X" .. typed, H.text(scene), "applied")
  vim.api.nvim_set_current_buf(scene)
  H.keys("u")
  H.eq(typed, H.text(scene), "u undoes the edit alone")
  H.keys("u")
  H.eq(before, H.text(scene), "and then the line typed before it")
end)

H.finish()
