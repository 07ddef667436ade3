-- A run the server was driving when it died: the next server asks before going on with it (a
-- gate of kind `resume`), and the review window asks the writer. Killed mid-stream with SIGKILL,
-- listed as `interrupted` while no process drives it; resumed with `ga`, the model is called
-- again, and the approved output lands in the open buffer (unsaved, disk untouched).
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/helpers.lua")

local release = vim.fn.tempname() .. "-release"
local AGAIN = "He stood, which was more than the rock expected of him."
local model = H.model_server({
  -- The first answer stops after a piece and waits (the server is killed meanwhile).
  { chunks = { "He did not ", "fall, and ", "that was all." }, hold_after = 1, wait_for = release },
  { text = AGAIN },
})
local root = H.project({ model_url = model.url })
H.setup({ model = "local/test" })

local file = root .. "/story/ch01/01-arrival.md"
local scene, client = H.open(file)
local review = require("showrunner.review")
local ORIGINAL = "He did not fall. She had been certain he would."

local function state()
  return review.current
end

local function wait_gate(kind)
  return H.wait("the review window at a " .. kind .. " gate", function()
    local s = state()
    return s and s.mode == "gate" and s.kind == kind and s.win and vim.api.nvim_win_is_valid(s.win) and s
  end)
end

--- The `showrunner lsp` processes this Neovim started.
local function servers()
  local out = {}
  for _, pid in ipairs(vim.api.nvim_get_proc_children(vim.fn.getpid())) do
    local f = io.open("/proc/" .. pid .. "/cmdline", "rb")
    local cmd = f and f:read("*a") or ""
    if f then
      f:close()
    end
    if cmd:find(H.bin, 1, true) and cmd:find("\0lsp", 1, true) then
      table.insert(out, pid)
    end
  end
  return out
end

local run

H.test("a run is killed with its server while the model streams", function()
  vim.api.nvim_set_current_buf(scene)
  local row = H.find(scene, ORIGINAL)
  vim.api.nvim_win_set_cursor(0, { row + 1, 0 })
  H.keys("v$")
  H.keys(":Showrunner rewrite<CR>")
  local s = wait_gate("review_prompt")
  run = s.run
  H.keys("ga")
  H.wait("the first piece streamed", function()
    local cur = state()
    return cur and cur.mode == "stream" and H.text(cur.buf):find("He did not", 1, true)
  end)
  local pids = servers()
  H.eq(1, #pids, "one server: " .. vim.inspect(pids))
  vim.uv.kill(pids[1], "sigkill")
  H.wait("the client to go", function()
    return #vim.lsp.get_clients({ name = "showrunner" }) == 0
  end)
  H.write(release, "go") -- the model server's held answer goes nowhere now
  H.wait("the review window to close with its server", function()
    return state() == nil
  end)
  H.eq("interrupted", require("showrunner.runs").by_id[run].state, "the run as the editor knows it")
  H.eq("", require("showrunner.runs").status(), "no active run in the statusline")
  H.wait("the writer to be told", function()
    for _, n in ipairs(H.notes) do
      if tostring(n.msg):find("the language server stopped during rewrite%-selection") then
        return true
      end
    end
  end)
  local out = H.sr({ "runs" }, false, root)
  H.ok(out:find(run, 1, true) and out:find("interrupted", 1, true), "listed as interrupted:\n" .. out)
end)

H.test("the next server asks with a resume gate; the window shows the question read-only", function()
  -- Reopening the scene starts a client again (and a server, which resumes the project's runs).
  vim.api.nvim_buf_call(scene, function()
    vim.cmd("edit")
  end)
  client = H.wait("a new client on the scene", function()
    local c = vim.lsp.get_clients({ bufnr = scene, name = "showrunner" })[1]
    return c and c.initialized and c
  end)
  local s = wait_gate("resume")
  H.eq(run, s.run, "the interrupted run")
  H.contains(H.text(s.buf), "was interrupted", "the server's question")
  H.ok(not vim.bo[s.buf].modifiable, "read-only")
  local footer = vim.inspect(vim.api.nvim_win_get_config(s.win).footer)
  H.contains(footer, "ga resume", "footer")
  H.contains(footer, "gx cancel the run", "footer")
  local listed
  for _, g in ipairs(H.exec(client, "showrunner.gate.list", vim.empty_dict())) do
    if g.run == run then
      listed = g
    end
  end
  H.eq("resume", listed and listed.kind, "gate.list: " .. vim.inspect(listed))
end)

H.test("ga resumes: the model is asked again, and the approved output lands in the buffer", function()
  local before = #H.model_requests(model)
  H.keys("ga")
  local s = wait_gate("approve_output")
  H.eq(run, s.run, "the same run")
  H.eq(AGAIN, vim.trim(H.text(s.buf)), "the new answer")
  H.eq(before + 1, #H.model_requests(model), "one more model call")
  H.keys("ga")
  H.wait("the answer in the scene buffer", function()
    return H.text(scene):find(AGAIN, 1, true)
  end)
  H.wait("the run to succeed", function()
    return H.exec(client, "showrunner.run.status", { run = run }).state == "succeeded"
  end)
  H.ok(vim.bo[scene].modified, "unsaved")
  H.contains(H.read(file), ORIGINAL, "the disk is untouched")
end)

H.finish()
