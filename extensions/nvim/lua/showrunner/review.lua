--- Review in a floating window. A gate's text (the prompt, or a model's output) is shown in an
--- editable buffer; buffer-local keys answer the gate (`showrunner.gate.resolve`), and the keys
--- are listed in the window's footer. When approving the gate changes a file, a panel above the
--- text says how (the gate's `edit.description`), shows the diff approving applies (`edit.diff`,
--- in DiffAdd/DiffDelete) and any `note` the writer must see first, as a warning; `gd` opens
--- the whole `.diff` (`showrunner.gate.diff`). While a run streams (`showrunner/runProgress`,
--- event `text`) the same window shows the text as it arrives. One window at a time: a gate of
--- another run waits in the queue (`:Showrunner queue`).
local util = require("showrunner.util")
local config = require("showrunner.config")
local lsp = require("showrunner.lsp")

local M = {}

--- The window's state, or nil: { run, step, kind, mode = "gate"|"stream"|"wait", buf, win,
--- eol, model, uri, pipeline, client_id, tick, edit?, note?, confidence?, info_buf?, info_win? }.
M.current = nil

--- The diff window (`gd`), or nil: { run, step, path?, buf, win }.
M.diff = nil

local ns = vim.api.nvim_create_namespace("showrunner.review")

local ACTIONS = { "approve", "skip", "model", "paste", "chat", "regenerate", "reject", "diff", "cancel", "close" }

--- JSON null arrives as vim.NIL; optional fields may be null.
local function val(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

local function valid_win(s)
  return s and s.win and vim.api.nvim_win_is_valid(s.win)
end

local function valid_buf(s)
  return s and s.buf and vim.api.nvim_buf_is_valid(s.buf)
end

--- A `resume` gate asks whether to go on with a run another process left unfinished: approve
--- resumes it, reject cancels it. Nothing else applies there.
local function resuming(s)
  return s.kind == "resume"
end

--- The footer: the keys that work in the current mode.
local function footer(s)
  local keys = config.options.keys or {}
  local shown
  local names = {}
  if s.mode == "gate" and resuming(s) then
    shown = { "approve", "reject", "close" }
    names = { approve = "resume", reject = "cancel the run" }
  elseif s.mode == "gate" then
    shown = { "approve", "skip", "model", "paste", "chat", "regenerate", "reject", "close" }
    if s.edit then
      table.insert(shown, #shown, "diff")
    end
  else
    shown = { "cancel", "close" }
  end
  local parts = {}
  for _, a in ipairs(shown) do
    if keys[a] then
      table.insert(parts, string.format("%s %s", keys[a], names[a] or a))
    end
  end
  return " " .. table.concat(parts, " · ") .. " "
end

local function title(s)
  local bits = { s.pipeline or s.run }
  if s.mode == "gate" and resuming(s) then
    table.insert(bits, "interrupted: resume it?")
  elseif s.mode == "gate" then
    table.insert(bits, (s.kind or "gate") .. ": " .. (s.step or "?"))
    -- The judge's score: what `:Showrunner batch approve SCORE` compares.
    local judged = util.judged(s.confidence)
    if judged then
      table.insert(bits, judged)
    end
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

--- The panel's lines about what approving does: the note (a warning), the edit in words, the
--- diff. Returns `lines, marks` where each mark is `{ row, group, line = true|nil }` (0-based
--- row; `line`: the whole line's background, as diff lines have).
function M.info_lines(s)
  local lines, marks = {}, {}
  local function add(text, group, whole)
    for _, l in ipairs(vim.split(text, "\n", { plain = true })) do
      table.insert(lines, l)
      if group then
        table.insert(marks, { #lines - 1, group, line = whole })
      end
    end
  end
  if type(s.note) == "string" and s.note ~= "" then
    add("⚠ " .. s.note, "WarningMsg")
  end
  local e = s.edit
  if type(e) == "table" then
    local description = val(e.description)
    if type(description) == "string" and description ~= "" then
      add("Approving: " .. description, "Title")
    end
    if s.edited then
      add("You edited the text: approving plans the edit again with it (the diff shows it as it was).", "Comment")
    end
    local diff = val(e.diff)
    if type(diff) == "string" and diff ~= "" then
      for _, l in ipairs(vim.split(diff:gsub("\n$", ""), "\n", { plain = true })) do
        if l:match("^%-%-%- ") or l:match("^%+%+%+ ") or l:match("^\\") then
          add(l, "Comment")
        elseif l:match("^@@") then
          add(l, "DiffChange", true)
        elseif l:sub(1, 1) == "+" then
          add(l, "DiffAdd", true)
        elseif l:sub(1, 1) == "-" then
          add(l, "DiffDelete", true)
        else
          add(l)
        end
      end
    end
  end
  return lines, marks
end

local function close_info(s)
  if s and s.info_win and vim.api.nvim_win_is_valid(s.info_win) then
    pcall(vim.api.nvim_win_close, s.info_win, true)
  end
  if s then
    s.info_win = nil
  end
end

--- Fills the panel above the text (creating it), or closes it when the gate changes no file and
--- has no note. Returns the geometry left for the text window.
local function layout(s)
  local g = geometry()
  local lines, marks = {}, {}
  if s.mode == "gate" then
    lines, marks = M.info_lines(s)
  end
  if #lines == 0 then
    close_info(s)
    return g
  end
  if not (s.info_buf and vim.api.nvim_buf_is_valid(s.info_buf)) then
    s.info_buf = vim.api.nvim_create_buf(false, true)
    vim.bo[s.info_buf].bufhidden = "hide"
    vim.bo[s.info_buf].swapfile = false
    vim.b[s.info_buf].showrunner_review_info = true
  end
  local buf = s.info_buf
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  for _, m in ipairs(marks) do
    local opts = { priority = 200 }
    if m.line then
      opts.line_hl_group = m[2]
    else
      opts.hl_group = m[2]
      opts.end_row = m[1]
      opts.end_col = #lines[m[1] + 1]
    end
    pcall(vim.api.nvim_buf_set_extmark, buf, ns, m[1], 0, opts)
  end
  local border = framed() and 2 or 0
  -- The text keeps at least three lines, and at least half the height.
  local most = math.max(1, math.min(g.height - 3 - border, math.floor(g.height / 2)))
  local cfg = { relative = "editor", row = g.row, col = g.col, width = g.width, height = most }
  if not (s.info_win and vim.api.nvim_win_is_valid(s.info_win)) then
    cfg.style = "minimal"
    cfg.border = config.options.review.border
    cfg.focusable = false
    s.info_win = vim.api.nvim_open_win(buf, false, cfg)
    vim.wo[s.info_win].wrap = true
    vim.wo[s.info_win].linebreak = true
    vim.wo[s.info_win].winhighlight = "NormalFloat:Normal"
  else
    vim.api.nvim_win_set_buf(s.info_win, buf)
    pcall(vim.api.nvim_win_set_config, s.info_win, cfg)
  end
  local ok, h = pcall(vim.api.nvim_win_text_height, s.info_win, {})
  local need = ok and h.all or #lines
  cfg.height = math.max(1, math.min(need, most))
  if framed() then
    cfg.title = " What approving does "
    cfg.title_pos = "left"
    local key = (config.options.keys or {}).diff
    cfg.footer = (need > cfg.height and key) and string.format(" more: %s the whole diff ", key) or ""
    cfg.footer_pos = "right"
  end
  pcall(vim.api.nvim_win_set_config, s.info_win, cfg)
  pcall(vim.api.nvim_win_set_cursor, s.info_win, { 1, 0 })
  local used = cfg.height + border
  return { relative = "editor", row = g.row + used, col = g.col, width = g.width, height = g.height - used }
end

local function decorate(s)
  if not valid_win(s) then
    return
  end
  local place = layout(s)
  local cfg = { relative = "editor", row = place.row, col = place.col, width = place.width, height = place.height }
  if framed() then
    cfg.title = title(s)
    cfg.title_pos = "center"
    cfg.footer = footer(s)
    cfg.footer_pos = "center"
  else
    vim.wo[s.win].winbar = (title(s) .. "│" .. footer(s)):gsub("%%", "%%%%")
  end
  pcall(vim.api.nvim_win_set_config, s.win, cfg)
  if valid_buf(s) then
    vim.bo[s.buf].modifiable = s.mode == "gate" and not resuming(s)
  end
end

local function set_text(s, text)
  local lines, eol = util.to_lines(text)
  s.eol = eol
  vim.bo[s.buf].modifiable = true
  vim.api.nvim_buf_set_lines(s.buf, 0, -1, false, lines)
  vim.bo[s.buf].modified = false
  s.tick = vim.api.nvim_buf_get_changedtick(s.buf)
  s.edited = false
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
    -- Once the writer edits an output whose edit is shown, the panel says the diff shows the
    -- text as it was: approving plans the edit again with the buffer's text.
    local buf = s.buf
    vim.api.nvim_buf_attach(buf, false, {
      on_lines = function()
        local cur = M.current
        if not (cur and cur.buf == buf) then
          return not vim.api.nvim_buf_is_valid(buf) -- true detaches
        end
        if cur.edited or not cur.edit then
          return
        end
        -- Windows cannot change inside on_lines; and the text set by the plugin itself (a new
        -- gate's text) moves `tick` along, so it does not count.
        vim.schedule(function()
          if M.current == cur and cur.mode == "gate" and cur.edit and not cur.edited
            and valid_buf(cur) and vim.api.nvim_buf_get_changedtick(buf) ~= cur.tick then
            cur.edited = true
            decorate(cur)
          end
        end)
      end,
    })
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
          -- The panel belongs to the text window; it does not stay on its own.
          vim.schedule(function()
            if M.current and not M.current.win then
              close_info(M.current)
            end
          end)
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

--- Closes the diff window (`gd`), and goes back to the review window when it is open.
function M.close_diff()
  local d = M.diff
  M.diff = nil
  if not d then
    return
  end
  if d.win and vim.api.nvim_win_is_valid(d.win) then
    pcall(vim.api.nvim_win_close, d.win, true)
  end
  if d.buf and vim.api.nvim_buf_is_valid(d.buf) then
    pcall(vim.api.nvim_buf_delete, d.buf, { force = true })
  end
  local s = M.current
  if valid_win(s) then
    pcall(vim.api.nvim_set_current_win, s.win)
  end
end

--- Closes the window and forgets its state.
function M.close()
  local s = M.current
  M.current = nil
  if M.diff and s and M.diff.run == s.run then
    M.close_diff()
  end
  close_info(s)
  if s and s.info_buf and vim.api.nvim_buf_is_valid(s.info_buf) then
    pcall(vim.api.nvim_buf_delete, s.info_buf, { force = true })
  end
  if valid_win(s) then
    pcall(vim.api.nvim_win_close, s.win, true)
  end
  if valid_buf(s) then
    pcall(vim.api.nvim_buf_delete, s.buf, { force = true })
  end
end

--- Shows a diff in a window above the review (`q` closes it): the gate's `.diff` file when
--- `d.path` is readable, else `d.text`.
---@param d { run: string, step: string, path?: string, text?: string, name?: string }
---@param opts? { enter?: boolean }
function M.open_diff(d, opts)
  opts = opts or {}
  local text = (d.path and util.read_file(d.path)) or d.text or ""
  local v = M.diff
  if v and (v.run ~= d.run or v.step ~= d.step) then
    M.close_diff()
    v = nil
  end
  if not (v and v.buf and vim.api.nvim_buf_is_valid(v.buf)) then
    v = { run = d.run, step = d.step, buf = vim.api.nvim_create_buf(false, true) }
    vim.bo[v.buf].bufhidden = "hide"
    vim.bo[v.buf].swapfile = false
    pcall(vim.api.nvim_buf_set_name, v.buf, string.format("showrunner://diff/%s/%s", d.run, d.step))
    vim.bo[v.buf].filetype = "diff"
    vim.keymap.set("n", "q", M.close_diff, { buffer = v.buf, nowait = true, desc = "Showrunner: close the diff" })
    M.diff = v
  end
  v.path = d.path or v.path
  local lines = util.to_lines(text)
  vim.bo[v.buf].modifiable = true
  vim.api.nvim_buf_set_lines(v.buf, 0, -1, false, lines)
  vim.bo[v.buf].modifiable = false
  vim.bo[v.buf].modified = false
  if not (v.win and vim.api.nvim_win_is_valid(v.win)) then
    local cfg = geometry()
    cfg.style = "minimal"
    cfg.border = config.options.review.border
    cfg.zindex = 60
    if framed() then
      local name = d.path and vim.fn.fnamemodify(d.path, ":t") or d.name or "diff"
      cfg.title = string.format(" What approving applies · %s ", name)
      cfg.title_pos = "center"
      cfg.footer = " q close "
      cfg.footer_pos = "center"
    end
    v.win = vim.api.nvim_open_win(v.buf, opts.enter == true, cfg)
    vim.wo[v.win].wrap = true
    vim.wo[v.win].linebreak = true
  elseif opts.enter then
    vim.api.nvim_set_current_win(v.win)
  end
  return v
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
        s.kind = val(g.kind) or s.kind
        s.model = val(g.model) or s.model
        s.pipeline = val(g.pipeline) or s.pipeline
        -- The list is the source of truth for what approving does.
        s.edit = type(val(g.edit)) == "table" and g.edit or nil
        s.note = val(g.note)
        s.confidence = val(g.confidence)
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

--- Shows a gate: `gate = { run, step, kind?, uri?, text?, model?, pipeline?, edit?, note?,
--- confidence? }`. `edit`, `note` and `confidence` are taken when the gate comes from a `gate`
--- event or the list (`details`); a `window/showDocument` names none, and the ones known are kept.
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
  s.kind = val(gate.kind) or (same and s.kind or nil)
  s.uri = val(gate.uri) or s.uri
  s.model = val(gate.model) or s.model
  if gate.details then
    s.edit = type(val(gate.edit)) == "table" and gate.edit or nil
    s.note = val(gate.note)
    s.confidence = val(gate.confidence)
  elseif not same then
    s.edit, s.note, s.confidence = nil, nil, nil
  end
  local text = val(gate.text)
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

--- A runProgress `gate` event: `gate = { step, kind, uri, text, model, edit?, note?, confidence? }`.
function M.on_gate(r, gate)
  M.open_gate({
    run = r.run,
    step = gate.step,
    kind = gate.kind,
    uri = gate.uri,
    text = gate.text,
    model = gate.model,
    pipeline = r.pipeline,
    edit = gate.edit,
    note = gate.note,
    confidence = gate.confidence,
    details = true,
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
  -- A gate's diff (`showrunner.gate.diff`): shown in the diff window, never loaded as a file
  -- buffer (the server rewrites it when the gate is asked again).
  local drun, dstep = path:match("/%.showrunner/runs/([^/]+)/([^/]+)%.diff$")
  if drun and dstep then
    vim.schedule(function()
      M.open_diff({ run = drun, step = dstep, path = path }, { enter = params.takeFocus == true })
    end)
    return { success = true }
  end
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
---@param action string approve|skip|model|paste|chat|regenerate|reject|diff|cancel|close
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
  if resuming(s) then
    -- Go on with a run another process left unfinished, or cancel it; the text is the question.
    if action == "approve" then
      resolve(s, "approve")
    elseif action == "reject" then
      resolve(s, "reject", { text = "cancelled in the editor" }, function()
        if M.current == s then
          M.close()
        end
      end)
    else
      local keys = config.options.keys or {}
      util.notify(string.format("this run was interrupted: %s resumes it, %s cancels it", keys.approve or "approve", keys.reject or "reject"))
    end
    return
  end
  if action == "diff" then
    if not s.edit then
      util.notify("approving this gate changes no file")
      return
    end
    lsp.exec("showrunner.gate.diff", { run = s.run, step = s.step }, function(err, res)
      if err then
        util.error(err)
        return
      end
      res = type(res) == "table" and res or {}
      local uri = val(res.diff_uri)
      M.open_diff({
        run = s.run,
        step = s.step,
        path = type(uri) == "string" and util.uri_path(uri) or nil,
        text = val(res.diff) or (s.edit and s.edit.diff),
        name = val(res.path),
      }, { enter = true })
    end, { client = client_of(s) })
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
  M.open_gate(vim.tbl_extend("force", g, { details = true }), { client_id = client_id })
end

M._ns = ns
return M
