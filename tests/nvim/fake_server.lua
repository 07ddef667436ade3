-- An in-process language server that speaks extensions/PROTOCOL.md for one pipeline
-- (rewrite-selection: a review_prompt gate, a streamed generate step, an approve_output gate,
-- then workspace/applyEdit), so the review window's every key can be tested deterministically.
-- The real server is tested by review_test.lua; this one pins the plugin's side of the protocol.
--
-- Everything it sends is valid against extensions/protocol.schema.json (the harness checks every
-- message, helpers.lua): a gate is a whole GateView, `gate.resolve` says whether the gate stays
-- open, and so on.
--
-- Use: `cmd = fake.cmd` in setup; `fake.commands` records every executeCommand received.
-- `fake.output_gate = { edit = …, note = … }` adds what approving does to the output gates;
-- `fake.resume(pipeline)` asks about an interrupted run (a `resume` gate); `fake.progress(p)`
-- sends any runProgress notification.
local M = { commands = {}, runs = {}, model_calls = 0 }

local dispatchers
local next_run = 0

local function notify(params)
  dispatchers.notification("showrunner/runProgress", params)
end

local function schedule(fn)
  vim.schedule(fn)
end

--- Streams `text` in pieces for `step`, then calls `after`.
local function stream(run, step, text, after)
  local pieces = {}
  for piece in text:gmatch("%S+%s*") do
    table.insert(pieces, piece)
  end
  local i = 0
  local function go()
    i = i + 1
    if i > #pieces then
      after()
      return
    end
    notify({ run = run.run, pipeline = run.pipeline, state = "running", event = "text", step = step, text = pieces[i] })
    schedule(go)
  end
  notify({ run = run.run, pipeline = run.pipeline, state = "running", event = "step", step = step, step_state = "running" })
  schedule(go)
end

local function open_gate(run, step, kind, text)
  run.gate = { run = run.run, step = step, kind = kind, pipeline = run.pipeline, model = run.model, text = text }
  run.state = "waiting"
  -- Like the real server: the review document on disk, a `gate` event, window/showDocument.
  local path = run.root .. "/.showrunner/runs/" .. run.run .. "/" .. step .. ".md"
  vim.fn.mkdir(vim.fs.dirname(path), "p")
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  local uri = vim.uri_from_fname(path)
  run.gate.uri = uri
  if kind == "approve_output" and M.output_gate then
    run.gate.edit = vim.deepcopy(M.output_gate.edit)
    run.gate.note = M.output_gate.note
    -- The diff beside the review document, as the real server writes it.
    if run.gate.edit then
      local d = assert(io.open(path:gsub("%.md$", ".diff"), "wb"))
      d:write(run.gate.edit.diff or "")
      d:close()
    end
  end
  -- The event carries the gate as `gate.list` lists it (a GateView).
  notify({ run = run.run, pipeline = run.pipeline, state = "waiting", event = "gate", gate = vim.deepcopy(run.gate) })
  dispatchers.server_request("window/showDocument", { uri = uri, takeFocus = true })
end

function M.progress(params)
  notify(params)
end

--- A run another process left unfinished: the server asks before going on with it.
function M.resume(pipeline, root)
  next_run = next_run + 1
  local run = {
    run = string.format("%s-%04d", pipeline, next_run),
    pipeline = pipeline,
    model = "local/test",
    root = root,
    state = "waiting",
    resuming = true,
  }
  M.runs[run.run] = run
  open_gate(run, "resume", "resume", "Run " .. run.run .. " was interrupted at step `draft`.\n\nApprove to resume it; reject (or skip) to cancel it.\n")
  return run
end

local function finish(run, state, err)
  run.state = state
  run.gate = nil
  notify({ run = run.run, pipeline = run.pipeline, state = state, event = "done", error = err })
end

local function generate(run)
  M.model_calls = M.model_calls + 1
  local answers = M.answers or { "The rewritten passage by {model}." }
  local answer = (answers[M.model_calls] or answers[#answers]):gsub("{model}", run.model)
  run.output = answer
  stream(run, "rewrite", answer, function()
    open_gate(run, "approve", "approve_output", answer)
  end)
end

local function apply(run)
  local edit = {
    changes = {
      [run.uri] = { { range = run.range, newText = run.output } },
    },
  }
  dispatchers.server_request("workspace/applyEdit", { label = "Showrunner: rewrite", edit = edit })
  finish(run, "succeeded")
end

local handlers = {}
--- Every command's handler, by name (a test may swap one).
M.handlers = handlers

handlers["showrunner.pipeline.run"] = function(args)
  next_run = next_run + 1
  local run = {
    run = string.format("%s-%04d", args.pipeline, next_run),
    pipeline = args.pipeline,
    uri = args.uri,
    range = args.range,
    model = args.model or "local/test",
    root = vim.fs.root(vim.uri_to_fname(args.uri), "showrunner.yaml") or "/tmp",
    state = "running",
  }
  M.runs[run.run] = run
  schedule(function()
    notify({ run = run.run, pipeline = run.pipeline, state = "running", event = "state" })
    open_gate(run, "review", "review_prompt", "Rewrite this passage:\n" .. (M.selection or "…"))
  end)
  return { run = run.run }
end

handlers["showrunner.research"] = function(args)
  next_run = next_run + 1
  return { run = string.format("research-%04d", next_run) }
end

handlers["showrunner.agent.ask"] = function()
  next_run = next_run + 1
  return { agent = "dialogue-doctor", run = string.format("agent-%04d", next_run), reason = "keyword: dialogue", via = "keywords" }
end

handlers["showrunner.run.list"] = function()
  local out = {}
  for _, run in pairs(M.runs) do
    table.insert(out, { run = run.run, pipeline = run.pipeline, state = run.state, scene = "story/scene.md" })
  end
  table.sort(out, function(a, b)
    return a.run > b.run
  end)
  return out
end

handlers["showrunner.gate.list"] = function()
  local out = {}
  for _, run in pairs(M.runs) do
    if run.gate then
      table.insert(out, vim.deepcopy(run.gate))
    end
  end
  return out
end

handlers["showrunner.gate.diff"] = function(args)
  local run = M.runs[args.run]
  if not run or not run.gate or run.gate.step ~= args.step or not run.gate.edit then
    return nil, { code = -32602, message = "the gate does not precede an edit" }
  end
  local path = vim.uri_to_fname(run.gate.uri):gsub("%.md$", ".diff")
  local uri = vim.uri_from_fname(path)
  -- The real server shows the diff without taking the focus, then answers.
  dispatchers.server_request("window/showDocument", { uri = uri, takeFocus = false })
  local out = vim.deepcopy(run.gate.edit)
  out.diff_uri = uri
  return out
end

handlers["showrunner.models.list"] = function()
  return { { model = "local/test", provider = "local" }, { model = "local/other", provider = "local" } }
end

handlers["showrunner.run.cancel"] = function(args)
  local run = M.runs[args.run]
  schedule(function()
    finish(run, "cancelled")
  end)
  return { run = args.run, state = "cancelled" }
end

handlers["showrunner.gate.resolve"] = function(args)
  local run = M.runs[args.run]
  if not run or not run.gate or run.gate.step ~= args.step then
    return nil, { code = -32602, message = "no open gate " .. tostring(args.run) .. "/" .. tostring(args.step) }
  end
  local kind = run.gate.kind
  local d = args.decision
  if kind == "resume" then
    run.gate = nil
    schedule(function()
      if d == "approve" or d == "paste" then
        run.state = "running"
        notify({ run = run.run, pipeline = run.pipeline, state = "running", event = "state" })
        finish(run, "succeeded")
      else
        finish(run, "cancelled", "the writer did not resume this interrupted run")
      end
    end)
    return { run = args.run, step = args.step, decision = d, open = false }
  end
  if d == "approve" or d == "edit" or d == "skip" then
    run.gate = nil
    run.state = "running"
    schedule(function()
      if kind == "review_prompt" then
        run.prompt = args.text
        generate(run)
      elseif d == "skip" then
        finish(run, "succeeded")
      else
        run.output = args.text or run.output
        apply(run)
      end
    end)
  elseif d == "paste" then
    run.gate = nil
    schedule(function()
      run.output = args.text
      open_gate(run, "approve", "approve_output", args.text)
    end)
  elseif d == "change_model" then
    run.model = args.model
    run.gate.model = args.model
    if kind == "approve_output" then
      run.gate = nil
      schedule(function()
        generate(run)
      end)
    end
  elseif d == "chat" then
    run.gate.text = "Revised after: " .. (args.text or "")
  elseif d == "regenerate" then
    if kind == "approve_output" then
      run.gate = nil
      schedule(function()
        generate(run)
      end)
    end
  elseif d == "reject" then
    schedule(function()
      finish(run, "failed", args.text)
    end)
  end
  -- As the real server: chat, a model change and a regeneration keep the gate open (asked again).
  local open = d == "chat" or d == "change_model" or d == "regenerate"
  return { run = args.run, step = args.step, decision = d, open = open }
end

--- `cmd` for the client configuration.
function M.cmd(d)
  dispatchers = d
  local closing = false
  local id = 0
  return {
    request = function(method, params, callback)
      id = id + 1
      local result, err
      if method == "initialize" then
        result = {
          capabilities = {
            executeCommandProvider = { commands = vim.tbl_keys(handlers) },
            textDocumentSync = 1,
          },
          serverInfo = { name = "showrunner", version = "fake" },
        }
      elseif method == "shutdown" then
        result = vim.NIL
      elseif method == "workspace/executeCommand" then
        table.insert(M.commands, { command = params.command, args = params.arguments and params.arguments[1] })
        local h = handlers[params.command]
        if h then
          result, err = h(params.arguments and params.arguments[1] or {})
          if result == nil and err == nil then
            result = vim.NIL
          end
        else
          err = { code = -32601, message = "unknown command " .. params.command }
        end
      else
        result = vim.NIL
      end
      vim.schedule(function()
        callback(err, result)
      end)
      return true, id
    end,
    notify = function(method)
      if method == "exit" then
        closing = true
        vim.schedule(function()
          dispatchers.on_exit(0, 0)
        end)
      end
      return true
    end,
    is_closing = function()
      return closing
    end,
    terminate = function()
      closing = true
    end,
  }
end

--- The last `gate.resolve` the server received.
function M.last_resolve()
  for i = #M.commands, 1, -1 do
    if M.commands[i].command == "showrunner.gate.resolve" then
      return M.commands[i].args
    end
  end
end

return M
