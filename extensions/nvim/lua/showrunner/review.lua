--- Review in a floating window. A gate's text (the prompt, or a model's output) is shown in an
--- editable buffer; buffer-local keys answer the gate (`showrunner.gate.resolve`), and the keys
--- are listed in the window's footer. While a run streams (`showrunner/runProgress`, event
--- `text`) the same window shows the text as it arrives. One window at a time: a gate of another
--- run waits in the queue (`:Showrunner queue`).
local util = require("showrunner.util")
local config = require("showrunner.config")
local lsp = require("showrunner.lsp")

local M = {}

--- The window's state, or nil: { run, step, kind, mode = "gate"|"stream"|"wait", buf, win,
--- eol, model, uri, pipeline, client_id, tick }.
M.current = nil

local ns = vim.api.nvim_create_namespace("showrunner.review")

local ACTIONS = { "approve", "skip", "model", "paste", "chat", "regenerate", "reject", "cancel", "close" }

local function valid_win(s)
  return s and s.win and vim.api.nvim_win_is_valid(s.win)
end

local function valid_buf(s)
  return s and s.buf and vim.api.nvim_buf_is_valid(s.buf)
end

--- The footer: the keys that work in the current mode.
local function footer(s)
  local keys = config.options.keys or {}
  local shown
  if s.mode == "gate" then
    shown = { "approve", "skip", "model", "paste", "chat", "regenerate", "reject", "close" }
  else
    shown = { "cancel", "close" }
  end
  local parts = {}
  for _, a in ipairs(shown) do
    if keys[a] then
      table.insert(parts, string.format("%s %s", keys[a], a))
    end
  end
  return " " .. table.concat(parts, " · ") .. " "
end

local function title(s)
  local bits = { s.pipeline or s.run }
  if s.mode == "gate" then
    table.insert(bits, (s.kind or "gate") .. ": " .. (s.step or "?"))
  elseif s.mode == "stream" then
    table.insert(bits, (s.step or "output") .. " (streaming…)")
  else
    table.insert(bits, s.status or "waiting for the run…")
  end
  if s.model and s.model ~= "" then
    table.insert(bits, s.model)
  end
  return " " .. table.concat(bits, " · ") .. " "
end

local function geometry()
  local o = config.options.review
  local width = math.max(40, math.floor(vim.o.columns * o.width))
  local height = math.max(8, math.floor((vim.o.lines - vim.o.cmdheight - 2) * o.height))
  width = math.min(width, vim.o.columns - 2)
  height = math.min(height, math.max(3, vim.o.lines - vim.o.cmdheight - 4))
  return {
    relative = "editor",
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
  }
end

--- Updates the window's title and footer to the state.
--- Titles and footers need a border; without one the keys go to the window bar.
local function framed()
  local b = config.options.review.border
  return b ~= nil and b ~= "none" and b ~= ""
end

local function decorate(s)
  if not valid_win(s) then
    return
  end
  if not framed() then
    vim.wo[s.win].winbar = (title(s) .. "│" .. footer(s)):gsub("%%", "%%%%")
    if valid_buf(s) then
      vim.bo[s.buf].modifiable = s.mode == "gate"
    end
    return
  end
  local cfg = vim.api.nvim_win_get_config(s.win)
  cfg.title = title(s)
  cfg.title_pos = "center"
  cfg.footer = footer(s)
  cfg.footer_pos = "center"
  -- Neovim refuses some fields when reconfiguring a window; keep the ones it accepts.
  cfg.zindex = nil
  pcall(vim.api.nvim_win_set_config, s.win, cfg)
  if valid_buf(s) then
    vim.bo[s.buf].modifiable = s.mode == "gate"
  end
end

local function set_text(s, text)
  local lines, eol = util.to_lines(text)
  s.eol = eol
  vim.bo[s.buf].modifiable = true
  vim.api.nvim_buf_set_lines(s.buf, 0, -1, false, lines)
  vim.bo[s.buf].modified = false
  s.tick = vim.api.nvim_buf_get_changedtick(s.buf)
end

local function buffer_text(s)
  return util.from_lines(vim.api.nvim_buf_get_lines(s.buf, 0, -1, false), s.eol)
end

local function map_keys(s)
  local keys = config.options.keys or {}
  for _, action in ipairs(ACTIONS) do
    local lhs = keys[action]
    if lhs then
      vim.keymap.set("n", lhs, function()
        M.act(action)
      end, { buffer = s.buf, nowait = true, desc = "Showrunner review: " .. action })
    end
  end
end

--- Opens (or reuses) the floating window for `s`; `enter` moves the cursor into it.
local function ensure_window(s, enter)
  if not valid_buf(s) then
    s.buf = vim.api.nvim_create_buf(false, true)
    vim.bo[s.buf].bufhidden = "hide"
    vim.bo[s.buf].swapfile = false
    vim.bo[s.buf].filetype = "markdown"
    pcall(vim.api.nvim_buf_set_name, s.buf, string.format("showrunner://review/%s/%s", s.run, s.step or "output"))
    vim.b[s.buf].showrunner_review = true
    map_keys(s)
  end
  if not valid_win(s) then
    local o = config.options.review
    local cfg = geometry()
    cfg.style = "minimal"
    cfg.border = o.border
    if framed() then
      cfg.title = title(s)
      cfg.title_pos = "center"
      cfg.footer = footer(s)
      cfg.footer_pos = "center"
    end
    s.win = vim.api.nvim_open_win(s.buf, enter, cfg)
    vim.wo[s.win].wrap = true
    vim.wo[s.win].linebreak = true
    vim.wo[s.win].winhighlight = "NormalFloat:Normal"
    local win = s.win
    vim.api.nvim_create_autocmd("WinClosed", {
      pattern = tostring(win),
      once = true,
      callback = function()
        if M.current and M.current.win == win then
          M.current.win = nil
        end
      end,
    })
  else
    vim.api.nvim_win_set_buf(s.win, s.buf)
    if enter then
      vim.api.nvim_set_current_win(s.win)
    end
  end
  decorate(s)
end

--- Closes the window and forgets its state.
function M.close()
  local s = M.current
  M.current = nil
  if valid_win(s) then
    pcall(vim.api.nvim_win_close, s.win, true)
  end
  if valid_buf(s) then
    pcall(vim.api.nvim_buf_delete, s.buf, { force = true })
  end
end

--- Hides the window; the gate stays open on the server (`:Showrunner queue` brings it back).
function M.hide()
  local s = M.current
  if not s then
    return
  end
  local r = require("showrunner.runs").by_id[s.run]
  if r then
    r.hidden = true
  end
  M.close()
end

--- A state for a run, reusing the current one when it is the same run.
local function state_for(run, client_id, pipeline)
  local s = M.current
  if s and s.run == run then
    s.client_id = s.client_id or client_id
    s.pipeline = s.pipeline or pipeline
    return s
  end
  if s then
    M.close()
  end
  s = { run = run, client_id = client_id, pipeline = pipeline }
  M.current = s
  return s
end

local function client_of(s)
  return s and s.client_id and lsp.by_id(s.client_id) or lsp.client()
end

--- Asks the server for the gate's current text and model, and shows them when the writer has
--- not edited the buffer since it was filled. An answer that comes after a decision was made
--- is dropped: it describes the gate as it was. After a decision that keeps the gate open
--- (`after_decision`), only a changed text or model counts: the list may still show the gate as
--- it was before the server took the decision in.
local function refresh_gate(s, after_decision)
  local generation = s.decisions or 0
  lsp.exec("showrunner.gate.list", {}, function(err, list)
    if err or type(list) ~= "table" or M.current ~= s or not valid_buf(s) then
      return
    end
    if (s.decisions or 0) ~= generation then
      return
    end
    for _, g in ipairs(list) do
      if g.run == s.run and g.step == s.step then
        if after_decision then
          local before = s.before or {}
          local text_changed = type(g.text) == "string" and g.text ~= before.text
          local model_changed = g.model ~= nil and g.model ~= before.model
          if s.mode == "gate" or not (text_changed or model_changed) then
            return
          end
        end
        s.kind = g.kind or s.kind
        s.model = g.model or s.model
        s.pipeline = g.pipeline or s.pipeline
        local untouched = vim.api.nvim_buf_get_changedtick(s.buf) == s.tick
        if type(g.text) == "string" and (untouched or s.mode ~= "gate") and g.text ~= buffer_text(s) then
          set_text(s, g.text)
        end
        s.mode = "gate"
        decorate(s)
        return
      end
    end
  end, { client = client_of(s) })
end

--- Shows a gate: `gate = { run, step, kind?, uri?, text?, model?, pipeline? }`.
---@param gate table
---@param opts? { client_id?: integer, enter?: boolean }
function M.open_gate(gate, opts)
  opts = opts or {}
  local s = M.current
  -- Another run's gate is being reviewed: leave it, this one waits in the queue.
  if s and s.run ~= gate.run and s.mode == "gate" and valid_win(s) then
    util.notify(string.format("%s waits at %s (:Showrunner queue)", gate.pipeline or gate.run, gate.step or "a gate"))
    return
  end
  local runs = require("showrunner.runs")
  local r = runs.get(gate.run, opts.client_id)
  r.hidden = false
  s = state_for(gate.run, opts.client_id or r.client_id, gate.pipeline or r.pipeline)
  local same = s.step == gate.step and s.mode == "gate" and valid_buf(s)
  s.step = gate.step
  -- A new gate's kind may come later (window/showDocument names none; gate.list does).
  s.kind = gate.kind or (same and s.kind or nil)
  s.uri = gate.uri or s.uri
  s.model = gate.model or s.model
  local text = gate.text
  if text == nil and s.uri then
    text = util.read_file(util.uri_path(s.uri))
  end
  ensure_window(s, opts.enter ~= false)
  if not same then
    set_text(s, text or "")
  elseif text ~= nil and vim.api.nvim_buf_get_changedtick(s.buf) == s.tick then
    set_text(s, text) -- the same gate again (event and showDocument both come): keep edits
  end
  s.mode = "gate"
  decorate(s)
  if valid_win(s) and opts.enter ~= false then
    vim.api.nvim_set_current_win(s.win)
    pcall(vim.api.nvim_win_set_cursor, s.win, { 1, 0 })
  end
  -- The list also names the model and the kind, and is the text's source of truth.
  refresh_gate(s)
end

--- A runProgress `gate` event.
function M.on_gate(r, gate)
  M.open_gate({
    run = r.run,
    step = gate.step,
    kind = gate.kind,
    uri = gate.uri,
    pipeline = r.pipeline,
  }, { client_id = r.client_id })
end

--- A runProgress `text` event: the piece is appended to the window when it shows this run.
function M.on_text(r, step, piece)
  local s = M.current
  if s and s.run ~= r.run then
    return -- another run is on screen; the text is kept in the run's record
  end
  if not s then
    if r.hidden or not config.options.review.stream then
      return
    end
    s = state_for(r.run, r.client_id, r.pipeline)
  end
  if s.mode == "gate" then
    return -- the writer is reviewing; a gate's text changes only after a decision
  end
  if s.mode ~= "stream" or s.step ~= step or not valid_buf(s) then
    s.mode = "stream"
    s.step = step
    ensure_window(s, false)
    set_text(s, r.text[step] or piece)
    decorate(s)
    return
  end
  if not valid_win(s) then
    ensure_window(s, false)
  end
  vim.bo[s.buf].modifiable = true
  local last = vim.api.nvim_buf_line_count(s.buf)
  local line = vim.api.nvim_buf_get_lines(s.buf, last - 1, last, false)[1] or ""
  local parts = vim.split(piece, "\n", { plain = true })
  parts[1] = line .. parts[1]
  vim.api.nvim_buf_set_lines(s.buf, last - 1, last, false, parts)
  vim.bo[s.buf].modifiable = false
  vim.bo[s.buf].modified = false
  if valid_win(s) then
    local n = vim.api.nvim_buf_line_count(s.buf)
    pcall(vim.api.nvim_win_set_cursor, s.win, { n, 0 })
  end
end

--- Other runProgress events (state, step): keep the title current; a run back at a gate after
--- streaming (a regenerated output) shows the gate's new text.
function M.on_event(r, p)
  local s = M.current
  if not s or s.run ~= r.run then
    return
  end
  s.pipeline = r.pipeline or s.pipeline
  if p.event == "step" and p.step then
    s.status = string.format("%s: %s", p.step, p.step_state or p.state or "")
    -- A model step names its model: the streamed text's title shows it.
    if type(p.model) == "string" and p.model ~= "" and p.step_state == "running" then
      s.model = p.model
    end
  elseif p.state then
    s.status = p.state
  end
  if p.state == "waiting" and s.mode ~= "gate" and s.step then
    refresh_gate(s)
  end
  decorate(s)
end

--- A runProgress `done` event: the window of that run closes.
function M.on_done(r, _)
  local s = M.current
  if s and s.run == r.run then
    M.close()
  end
end

--- `window/showDocument` handler: review documents open in the floating window; everything else
--- goes to Neovim's own handler.
function M.show_document(err, params, ctx, cfg)
  local path = params and params.uri and util.uri_path(params.uri) or ""
  local run, step = path:match("/%.showrunner/runs/([^/]+)/([^/]+)%.md$")
  if run and step then
    vim.schedule(function()
      local r = require("showrunner.runs").get(run, ctx and ctx.client_id)
      M.open_gate({ run = run, step = step, uri = params.uri, pipeline = r.pipeline }, {
        client_id = ctx and ctx.client_id,
        enter = params.takeFocus ~= false,
      })
    end)
    return { success = true }
  end
  local default = vim.lsp.handlers["window/showDocument"]
  return default(err, params, ctx, cfg)
end

--- The text to paste: the clipboard, else the unnamed register, else the buffer as edited.
local function paste_text(s)
  local regs = vim.fn.has("clipboard") == 1 and { "+", '"' } or { '"' }
  for _, reg in ipairs(regs) do
    local ok, v = pcall(vim.fn.getreg, reg)
    if ok and type(v) == "string" and v ~= "" then
      return v
    end
  end
  return buffer_text(s)
end

--- Sends a decision for the gate on screen.
local function resolve(s, decision, extra, after)
  local args = vim.tbl_extend("force", { run = s.run, step = s.step, decision = decision }, extra or {})
  -- Answers to questions asked before this decision are stale from now on.
  s.decisions = (s.decisions or 0) + 1
  s.before = { text = buffer_text(s), model = s.model }
  -- What streams after a decision is new text (a regenerated output, a chat answer).
  local r = require("showrunner.runs").by_id[s.run]
  if r then
    r.text = {}
  end
  local was = s.mode
  s.mode = "wait"
  s.status = decision == "approve" and "approved" or decision
  decorate(s)
  lsp.exec("showrunner.gate.resolve", args, function(err)
    if err then
      util.error(err)
      if M.current == s then
        s.mode = was
        decorate(s)
      end
      return
    end
    if after then
      after()
    end
  end, { client = client_of(s) })
end

--- Keeps the gate on screen after a decision that leaves it open (model, chat, regenerate).
local function stays_open(s)
  return function()
    if M.current == s then
      refresh_gate(s, true)
    end
  end
end

local function pick_model(s, done)
  local items = {}
  local seen = {}
  local function add(m)
    if type(m) == "string" and m ~= "" and not seen[m] then
      seen[m] = true
      table.insert(items, m)
    end
  end
  add(config.options.model)
  local r = require("showrunner.runs").by_id[s.run]
  local bufnr = r and r.bufnr
  local args = {}
  if bufnr and vim.api.nvim_buf_is_valid(bufnr) then
    args.uri = vim.uri_from_bufnr(bufnr)
  end
  lsp.exec("showrunner.models.list", args, function(err, list)
    if not err and type(list) == "table" then
      for _, m in ipairs(list) do
        add(type(m) == "table" and m.model or m)
      end
    end
    add(s.model)
    if #items == 0 then
      vim.ui.input({ prompt = "Model (provider/model): " }, function(m)
        if m and m ~= "" then
          done(m)
        end
      end)
      return
    end
    vim.ui.select(items, { prompt = "Model for " .. (s.step or "this step") }, function(choice)
      if choice then
        done(choice)
      end
    end)
  end, { client = client_of(s) })
end

--- Runs one of the review window's actions on the current gate.
---@param action string approve|skip|model|paste|chat|regenerate|reject|cancel|close
function M.act(action)
  local s = M.current
  if not s then
    return
  end
  if action == "close" then
    M.hide()
    return
  end
  if action == "cancel" then
    lsp.exec("showrunner.run.cancel", { run = s.run }, function(err)
      if err then
        util.error(err)
      end
    end, { client = client_of(s) })
    M.close()
    return
  end
  if s.mode ~= "gate" then
    util.notify("no gate is open here yet")
    return
  end
  if action == "approve" then
    resolve(s, "approve", { text = buffer_text(s) })
  elseif action == "skip" then
    resolve(s, "skip")
  elseif action == "paste" then
    local text = paste_text(s)
    set_text(s, text)
    resolve(s, "paste", { text = text })
  elseif action == "model" then
    pick_model(s, function(model)
      resolve(s, "change_model", { model = model }, stays_open(s))
    end)
  elseif action == "chat" then
    -- Lines starting with `>>` are the message, as in a review document; else ask for one.
    local lines = vim.api.nvim_buf_get_lines(s.buf, 0, -1, false)
    local message, rest = {}, {}
    for _, l in ipairs(lines) do
      local m = l:match("^>>%s?(.*)$")
      if m then
        table.insert(message, m)
      else
        table.insert(rest, l)
      end
    end
    if #message > 0 then
      vim.api.nvim_buf_set_lines(s.buf, 0, -1, false, rest)
      resolve(s, "chat", { text = table.concat(message, "\n") }, stays_open(s))
    else
      vim.ui.input({ prompt = "Message to the model: " }, function(text)
        if text and text ~= "" then
          resolve(s, "chat", { text = text }, stays_open(s))
        end
      end)
    end
  elseif action == "regenerate" then
    resolve(s, "regenerate", nil, stays_open(s))
  elseif action == "reject" then
    vim.ui.input({ prompt = "Reason for rejecting: ", default = "rejected in the editor" }, function(reason)
      if reason == nil then
        return
      end
      resolve(s, "reject", { text = reason ~= "" and reason or "rejected in the editor" }, function()
        if M.current == s then
          M.close()
        end
      end)
    end)
  end
end

--- Opens the review window for a gate from `showrunner.gate.list`.
function M.open_from_list(g, client_id)
  local r = require("showrunner.runs").get(g.run, client_id)
  r.pipeline = r.pipeline or g.pipeline
  if M.current and M.current.run ~= g.run then
    M.close()
  end
  M.open_gate(g, { client_id = client_id })
end

M._ns = ns
return M
