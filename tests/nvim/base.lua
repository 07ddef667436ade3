-- What every Neovim end-to-end test shares, without the plugin (helpers.lua adds it; the
-- plain-client test uses this alone): paths, the schema checks on every client's protocol
-- messages, assertions and a tiny runner, projects, the scripted model server, requests.
-- Nothing waits for a fixed time: every wait is `vim.wait` with a predicate.
local H = {}

local uv = vim.uv or vim.loop

-- This file's folder, and the repository above it.
H.dir = vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, "S").source:sub(2)))
H.dir = vim.fn.fnamemodify(H.dir, ":p"):gsub("/$", "")
H.repo = vim.fn.fnamemodify(H.dir .. "/../..", ":p"):gsub("/$", "")
H.plugin = H.repo .. "/extensions/nvim"

local function abs(p)
  if p:sub(1, 1) ~= "/" then
    p = H.repo .. "/" .. p
  end
  return p
end

H.bin = abs(os.getenv("SHOWRUNNER_BIN") or "target/debug/showrunner")
H.timeout = tonumber(os.getenv("SHOWRUNNER_TEST_TIMEOUT") or "") or 20000

vim.o.swapfile = false
vim.o.shadafile = "NONE"
-- Messages go to stderr in headless mode; keep notifications for assertions instead.
H.notes = {}
vim.notify = function(msg, level)
  table.insert(H.notes, { msg = msg, level = level })
  if os.getenv("SHOWRUNNER_TEST_VERBOSE") then
    io.stderr:write("[notify] " .. tostring(msg) .. "\n")
  end
end

--- The newest notification matching a Lua pattern, or nil.
function H.note_matching(pattern)
  for i = #H.notes, 1, -1 do
    if tostring(H.notes[i].msg):find(pattern) then
      return H.notes[i]
    end
  end
end

---------------------------------------------------------------------------------------------
-- The protocol schema (extensions/protocol.schema.json, checked by schema.lua): in every test,
-- every `workspace/executeCommand` a client sends has its argument checked against
-- `commands[name].arguments`, every result it reads against `commands[name].result`, and every
-- `showrunner/runProgress` it receives against `notifications`. The checks wrap the client
-- class itself (`Client:request`, through which `request_sync` and `exec_cmd` go too, and
-- `Client:_notification`), before any client starts, so nothing the plugin sends or reads goes
-- around them; the plugin is not changed. A mismatch fails the test it happens in (or, outside
-- any test, the file), with its path and the message. SHOWRUNNER_TEST_PROTOCOL_LOG=1 prints every
-- message checked to stderr.

local schema = dofile(H.dir .. "/schema.lua")
H.protocol = {
  root = schema.load(),
  checked = { arguments = 0, results = 0, notifications = 0 },
  by_tests = 0, -- of the commands, how many the tests sent themselves (H.request), not the plugin
  violations = {},
  reported = 0,
  expected = 0,
  outside = {},
}

--- Counts one message under `what` and checks it (`check(root, …)`); a mismatch (or the checker
--- failing) is recorded as `verb` + the problem, with the message.
local log_messages = os.getenv("SHOWRUNNER_TEST_PROTOCOL_LOG")
local function check(what, verb, message, fn, ...)
  local p = H.protocol
  p.checked[what] = p.checked[what] + 1
  if log_messages then
    io.stderr:write(string.format("[protocol] %s %s\n", verb, schema.show(message, 4000)))
  end
  local good, ok, err = pcall(fn, p.root, ...)
  if not good then
    ok, err = false, "the schema check failed: " .. tostring(ok)
  end
  if not ok then
    table.insert(p.violations, string.format("%s %s\n    message: %s", verb, err, schema.show(message, 2000)))
  end
end

--- Violations recorded since the last look.
local function take()
  local p = H.protocol
  local out = vim.list_slice(p.violations, p.reported + 1)
  p.reported = #p.violations
  return out
end

--- Violations recorded since the test began, which then no longer fail it: for a test that
--- sends a bad message on purpose (and checks it is caught).
function H.protocol_violations()
  local out = take()
  H.protocol.expected = H.protocol.expected + #out
  return out
end

do
  local Client = require("vim.lsp.client")
  -- 0.11: `Client:request`; 0.10: `Client:_request` (`client.request` wraps it).
  local name = type(Client.request) == "function" and "request" or "_request"
  local request, notification = Client[name], Client._notification
  assert(type(request) == "function" and type(notification) == "function", "helpers.lua: cannot hook vim.lsp.client (Neovim " .. tostring(vim.version()) .. ")")

  Client[name] = function(self, method, params, handler, bufnr)
    if method == "workspace/executeCommand" then
      local command = type(params) == "table" and params.command or nil
      if H.protocol.in_test_request then
        -- request_sync sends before it waits; what the plugin sends during the wait is its own.
        H.protocol.in_test_request = false
        H.protocol.by_tests = H.protocol.by_tests + 1
      end
      check("arguments", "sent", params, function(root)
        local args = type(params) == "table" and params.arguments
        if type(args) == "table" and #args > 1 then
          return false, string.format("%s: %d arguments (the protocol sends one)", tostring(command), #args)
        end
        return schema.check_arguments(root, command, type(args) == "table" and args[1] or nil)
      end)
      handler = handler or self:_resolve_handler(method)
      if handler then
        local inner = handler
        handler = function(rerr, result, ...)
          if rerr == nil then
            check("results", "read", result, schema.check_result, command, result)
          end
          return inner(rerr, result, ...)
        end
      end
    end
    return request(self, method, params, handler, bufnr)
  end

  Client._notification = function(self, method, params)
    if method == "showrunner/runProgress" then
      check("notifications", "received", params, schema.check_notification, method, params)
    end
    return notification(self, method, params)
  end
end

---------------------------------------------------------------------------------------------
-- Assertions and a tiny runner: `H.test(name, fn)`, then `H.finish()`.

H.results = { passed = 0, failed = 0, names = {} }

local function fmt(v)
  return type(v) == "string" and string.format("%q", v) or vim.inspect(v)
end

function H.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(string.format("%s: expected %s, got %s", what or "values differ", fmt(expected), fmt(actual)), 2)
  end
end

function H.ok(cond, what)
  if not cond then
    error(what or "assertion failed", 2)
  end
  return cond
end

function H.contains(haystack, needle, what)
  if type(haystack) ~= "string" or not haystack:find(needle, 1, true) then
    error(string.format("%s: %s does not contain %s", what or "text", fmt(haystack), fmt(needle)), 2)
  end
end

--- Waits until `pred()` returns a truthy value and returns it; fails naming `what` otherwise.
function H.wait(what, pred, timeout)
  local value
  local ok = vim.wait(timeout or H.timeout, function()
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

--- Violations recorded outside any test (setting up a file, between tests) are kept for
--- H.finish, which fails the file with them.
local function keep_outside()
  vim.list_extend(H.protocol.outside, take())
end

local function mismatches(list)
  return "messages that do not match extensions/protocol.schema.json:\n  " .. table.concat(list, "\n  ")
end

function H.test(name, fn)
  keep_outside()
  local ok, err = xpcall(fn, debug.traceback)
  local bad = take()
  if #bad > 0 then
    ok, err = false, ok and mismatches(bad) or (tostring(err) .. "\n" .. mismatches(bad))
  end
  if ok then
    H.results.passed = H.results.passed + 1
    io.stdout:write("ok - " .. name .. "\n")
  else
    H.results.failed = H.results.failed + 1
    table.insert(H.results.names, name)
    io.stdout:write("FAIL - " .. name .. "\n" .. tostring(err) .. "\n")
    if #H.notes > 0 then
      io.stdout:write("  notifications:\n")
      for _, n in ipairs(H.notes) do
        io.stdout:write("    " .. tostring(n.msg):gsub("\n", "\n    ") .. "\n")
      end
    end
  end
  io.stdout:flush()
end

--- Stops every client and helper process, prints the counts, and exits (non-zero on a failure).
function H.finish()
  for _, c in ipairs(vim.lsp.get_clients()) do
    if vim.fn.has("nvim-0.11") == 1 then
      c:stop()
    else
      c.stop()
    end
  end
  vim.wait(3000, function()
    return #vim.lsp.get_clients() == 0
  end, 20)
  for _, proc in ipairs(H.procs) do
    pcall(function()
      proc:kill(15)
    end)
  end
  local r = H.results
  keep_outside()
  local outside = H.protocol.outside
  if #outside > 0 then
    r.failed = r.failed + 1
    io.stdout:write("FAIL - protocol messages outside any test\n" .. mismatches(outside) .. "\n")
  end
  local p = H.protocol
  local c = p.checked
  io.stdout:write(string.format(
    "schema: %d messages checked (%d executeCommand arguments, %d of them sent by the tests themselves; %d results; %d runProgress), %d mismatches, %d more made on purpose\n",
    c.arguments + c.results + c.notifications, c.arguments, p.by_tests, c.results, c.notifications, #p.violations - p.expected, p.expected
  ))
  io.stdout:write(string.format("\n%d passed, %d failed\n", r.passed, r.failed))
  io.stdout:flush()
  os.exit(r.failed == 0 and 0 or 1)
end

---------------------------------------------------------------------------------------------
-- Projects and files.

H.procs = {}

function H.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function H.write(path, text)
  vim.fn.mkdir(vim.fs.dirname(path), "p")
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

--- Runs the showrunner binary (in `cwd` when given); returns stdout, and fails on a non-zero
--- exit unless `allow_fail`.
function H.sr(args, allow_fail, cwd)
  local cmd = { H.bin }
  vim.list_extend(cmd, args)
  local res = vim.system(cmd, { text = true, cwd = cwd }):wait(60000)
  if res.code ~= 0 and not allow_fail then
    error(string.format("%s failed (%s): %s%s", table.concat(cmd, " "), tostring(res.code), res.stderr or "", res.stdout or ""), 2)
  end
  return res.stdout or "", res
end

--- A fresh copy of the example project in a temporary folder; `opts.model_url` points the
--- `local` provider at a test model server and makes `local/test` the default model.
function H.project(opts)
  opts = opts or {}
  local root = vim.fn.tempname() .. "-lighthouse"
  H.sr({ "init", root, "--example" })
  root = vim.fs.normalize(vim.fn.fnamemodify(root, ":p")):gsub("/$", "")
  local url = opts.model_url or "http://127.0.0.1:9/v1"
  -- Only the loopback provider: the tests never reach for a hosted API.
  H.write(root .. "/showrunner.yaml", table.concat({
    "# The Lighthouse, set up for the Neovim tests.",
    "name: The Lighthouse",
    "default_model: local/test",
    "providers:",
    '  local: { base_url: "' .. url .. '" }',
    "context: { budget_tokens: 6000 }",
    -- The example leaves SR001 hints off in editors; lsp_test.lua checks them on Zoë.
    "entities: { link_hints: true }",
    "kinds:",
    "  ship: { attributes: { tonnage: number, captain: ref } }",
    "judge: { approve_above: 0.90, review_above: 0.70, sensitive_topics: [politics] }",
    "budget: { daily_tokens: 2000000 }",
    "",
  }, "\n"))
  return root
end

--- Starts tests/nvim/model_server.py with a script (a list of replies); returns
--- `{ url, port, log, proc }`.
function H.model_server(script)
  local dir = vim.fn.tempname() .. "-model"
  vim.fn.mkdir(dir, "p")
  local script_path = dir .. "/script.json"
  H.write(script_path, vim.json.encode(script or { { text = "The lamp burned on." } }))
  local log = dir .. "/requests.jsonl"
  local out = ""
  local proc = vim.system({ "python3", H.dir .. "/model_server.py", "--script", script_path, "--log", log }, {
    stdin = true,
    stdout = function(_, data)
      if data then
        out = out .. data
      end
    end,
  })
  table.insert(H.procs, proc)
  local port = H.wait("the model server's port", function()
    return tonumber(out:match("PORT (%d+)"))
  end, 15000)
  return { port = port, url = string.format("http://127.0.0.1:%d/v1", port), log = log, proc = proc, dir = dir }
end

--- The chat requests the model server received (decoded).
function H.model_requests(server)
  local f = io.open(server.log, "r")
  if not f then
    return {}
  end
  local out = {}
  for line in f:lines() do
    table.insert(out, vim.json.decode(line))
  end
  f:close()
  return out
end

---------------------------------------------------------------------------------------------
-- The client.

--- Opens a file and waits until the Showrunner client is attached and initialised.
function H.open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local client = H.wait("the Showrunner client on " .. path, function()
    local c = vim.lsp.get_clients({ bufnr = buf, name = "showrunner" })[1]
    return c and c.initialized and c
  end)
  return buf, client
end

function H.request(client, method, params, bufnr)
  local resp, err
  H.protocol.in_test_request = method == "workspace/executeCommand"
  local ok, e = pcall(function()
    if vim.fn.has("nvim-0.11") == 1 then
      resp, err = client:request_sync(method, params, H.timeout, bufnr)
    else
      resp, err = client.request_sync(method, params, H.timeout, bufnr)
    end
  end)
  H.protocol.in_test_request = false
  if not ok then
    error(e, 2)
  end
  if not resp then
    error(string.format("%s: no answer (%s)", method, tostring(err)), 2)
  end
  if resp.err then
    error(string.format("%s: %s", method, resp.err.message), 2)
  end
  return resp.result
end

function H.exec(client, command, args)
  return H.request(client, "workspace/executeCommand", { command = command, arguments = { args } })
end

--- The 0-based (row, byte column) of the first occurrence of `needle` in a buffer.
function H.find(buf, needle)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local s = line:find(needle, 1, true)
    if s then
      return i - 1, s - 1
    end
  end
  error("not in the buffer: " .. needle, 2)
end

function H.text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
end

--- Diagnostics of a buffer from the Showrunner client.
function H.diagnostics(buf)
  return vim.diagnostic.get(buf)
end

--- Presses keys as the writer would (mappings apply).
function H.keys(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "mx", false)
end

return H
