-- Plain Neovim 0.11, without the plugin: `vim.lsp.start` with `showrunner lsp`, as a writer who
-- only read the README would have it. A rewrite is started from the code action on a selection;
-- both gates are answered where Neovim shows `window/showMessageRequest` (vim.ui.select, stubbed
-- here to pick "Approve"); the approved text arrives as `workspace/applyEdit`, and the run's end
-- as `window/showMessage` (vim.notify).
--
-- Deliberately does not load helpers.lua: that puts the plugin on the runtimepath.
local dir = vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, "S").source:sub(2)))
dir = vim.fn.fnamemodify(dir, ":p"):gsub("/$", "")
local repo = vim.fn.fnamemodify(dir .. "/../..", ":p"):gsub("/$", "")
local bin = os.getenv("SHOWRUNNER_BIN") or (repo .. "/target/debug/showrunner")
local timeout = tonumber(os.getenv("SHOWRUNNER_TEST_TIMEOUT") or "") or 20000
vim.o.swapfile = false
vim.o.shadafile = "NONE"

local results = { passed = 0, failed = 0 }
local procs = {}

local function wait(what, pred)
  local value
  local ok = vim.wait(timeout, function()
    local good, v = pcall(pred)
    if good and v then
      value = v
      return true
    end
    return false
  end, 10)
  if not ok then
    error("timed out waiting for " .. what, 2)
  end
  return value
end

local function eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(string.format("%s: expected %s, got %s", what, vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("*a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- Notifications (window/showMessage lands in vim.notify) and the questions asked.
local notes, questions = {}, {}
vim.notify = function(msg, level)
  table.insert(notes, { msg = tostring(msg), level = level })
end
vim.ui.select = function(items, opts, on_choice)
  local titles = vim.tbl_map(function(i)
    return opts.format_item and opts.format_item(i) or tostring(i)
  end, items)
  table.insert(questions, { prompt = opts.prompt, titles = titles })
  for i, t in ipairs(titles) do
    if t == "Approve" then
      return on_choice(items[i], i)
    end
  end
  on_choice(nil, nil)
end

-- Neovim shows `window/showMessage` itself (echoed, or vim.notify for errors): record what it
-- is given, then let it show it.
local show_message = vim.lsp.handlers["window/showMessage"]
vim.lsp.handlers["window/showMessage"] = function(err, params, ctx, config)
  table.insert(notes, { msg = params.message, level = params.type, shown = true })
  return show_message(err, params, ctx, config)
end

-- The scripted model server.
local function model_server(script)
  local d = vim.fn.tempname() .. "-model"
  vim.fn.mkdir(d, "p")
  write(d .. "/script.json", vim.json.encode(script))
  local out = ""
  local proc = vim.system({ "python3", dir .. "/model_server.py", "--script", d .. "/script.json", "--log", d .. "/log.jsonl" }, {
    stdin = true,
    stdout = function(_, data)
      out = out .. (data or "")
    end,
  })
  table.insert(procs, proc)
  local port = wait("the model server's port", function()
    return tonumber(out:match("PORT (%d+)"))
  end)
  return string.format("http://127.0.0.1:%d/v1", port)
end

local function test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    results.passed = results.passed + 1
    io.stdout:write("ok - " .. name .. "\n")
  else
    results.failed = results.failed + 1
    io.stdout:write("FAIL - " .. name .. "\n" .. tostring(err) .. "\n")
    for _, n in ipairs(notes) do
      io.stdout:write("  notified: " .. n.msg .. "\n")
    end
  end
  io.stdout:flush()
end

local SENTENCE = "The boat stood off, rose, fell, stood off again."
local REWRITTEN = "Łódź stała z dala — wznosiła się, opadała; «czekała»."

test("plain Neovim approves a rewrite at both gates through showMessageRequest", function()
  eq(1, vim.fn.has("nvim-0.11"), "Neovim 0.11")
  local url = model_server({ { text = REWRITTEN } })
  local parent = vim.fn.tempname()
  vim.fn.mkdir(parent, "p")
  local init = vim.system({ bin, "init", "story", "--example" }, { cwd = parent }):wait()
  eq(0, init.code, "showrunner init: " .. (init.stderr or ""))
  local root = parent .. "/story"
  local cfg = read(root .. "/showrunner.yaml")
  write(root .. "/showrunner.yaml", (cfg:gsub("http://127%.0%.0%.1:11434/v1", url)))
  local scene_path = root .. "/story/ch01/01-arrival.md"
  local original = read(scene_path)
  eq(false, vim.o.runtimepath:find("extensions/nvim", 1, true) ~= nil, "the plugin is not loaded")

  vim.cmd.edit(vim.fn.fnameescape(scene_path))
  local scene = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start({ name = "showrunner", cmd = { bin, "lsp" }, root_dir = root })
  local client = wait("the client", function()
    local c = vim.lsp.get_client_by_id(id)
    return c and c.initialized and c
  end)

  -- Select the sentence and take the Rewrite code action, as `gra` would.
  local row, col
  for i, line in ipairs(vim.api.nvim_buf_get_lines(scene, 0, -1, false)) do
    local at = line:find(SENTENCE, 1, true)
    if at then
      row, col = i, at - 1
      break
    end
  end
  assert(row, "the sentence is in the scene")
  local applied = false
  vim.lsp.buf.code_action({
    range = { start = { row, col }, ["end"] = { row, col + #SENTENCE } },
    filter = function(a)
      return a.title == "Showrunner: Rewrite"
    end,
    apply = true,
  })
  -- Two questions, each answered "Approve"; then the edit lands in the open buffer.
  wait("the approved rewrite in the scene buffer", function()
    applied = table.concat(vim.api.nvim_buf_get_lines(scene, 0, -1, false), "\n"):find(REWRITTEN, 1, true) ~= nil
    return applied
  end)
  eq(2, #questions, "two gates asked")
  eq({ "Approve", "Edit", "Skip", "Reject", "Open review file" }, questions[1].titles, "the decisions offered")
  assert(questions[1].prompt:find("Review the prompt", 1, true), questions[1].prompt)
  assert(questions[2].prompt:find("Approve the output", 1, true), questions[2].prompt)
  assert(questions[2].prompt:find("/.showrunner/runs/", 1, true), "names the review file: " .. questions[2].prompt)
  local finished = wait("the run's end as a message", function()
    for _, n in ipairs(notes) do
      if n.shown and n.msg:find("rewrite-selection finished", 1, true) then
        return n
      end
    end
  end)
  eq(vim.lsp.protocol.MessageType.Info, finished.level, "a success is information")
  -- The writer saves: the file holds the rewrite, nothing else changed.
  vim.api.nvim_buf_call(scene, function()
    vim.cmd("silent write")
  end)
  eq((original:gsub(vim.pesc(SENTENCE), REWRITTEN)), read(scene_path), "the saved scene")
  client:stop()
end)

for _, c in ipairs(vim.lsp.get_clients()) do
  c:stop()
end
vim.wait(3000, function()
  return #vim.lsp.get_clients() == 0
end, 20)
for _, proc in ipairs(procs) do
  pcall(function()
    proc:kill(15)
  end)
end
io.stdout:write(string.format("\n%d passed, %d failed\n", results.passed, results.failed))
io.stdout:flush()
os.exit(results.failed == 0 and 0 or 1)
