--- Pipeline runs as the editor sees them: what `showrunner/runProgress` notifications said about
--- each run (state, steps, streamed text, open gate), kept in one table, and the review window
--- told about every change.
local util = require("showrunner.util")

local M = {}

--- run id → { run, pipeline, state, steps = {step → state}, text = {step → string},
---            step?, gate?, error?, client_id, bufnr?, started_here?, recorded? }
M.by_id = {}

local FINAL = { succeeded = true, failed = true, cancelled = true }

function M.is_final(state)
  return FINAL[state] == true
end

--- `interrupted`: the process driving the run ended before it did. Nothing drives it now; the
--- server asks (a `resume` gate) before going on with it. Not active, not final: it can be
--- cancelled.
function M.is_stopped(state)
  return state == "interrupted"
end

--- JSON null arrives as vim.NIL; optional fields are sent as null.
local function val(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

--- The run record, created on first sight.
function M.get(run, client_id)
  local r = M.by_id[run]
  if not r then
    r = { run = run, state = "queued", steps = {}, text = {}, client_id = client_id, events = 0 }
    M.by_id[run] = r
  end
  if client_id and not r.client_id then
    r.client_id = client_id
  end
  return r
end

--- Records a run this editor started (so its first events find the scene buffer).
function M.started(run, pipeline, client_id, bufnr)
  local r = M.get(run, client_id)
  r.pipeline = r.pipeline or pipeline
  r.bufnr = bufnr
  r.started_here = true
  return r
end

--- Runs not yet ended, newest first.
function M.active()
  local out = {}
  for _, r in pairs(M.by_id) do
    if not M.is_final(r.state) and not M.is_stopped(r.state) then
      table.insert(out, r)
    end
  end
  table.sort(out, function(a, b)
    return (a.seen or 0) > (b.seen or 0)
  end)
  return out
end

local seen = 0

--- The `showrunner/runProgress` handler.
function M.on_progress(_, p, ctx)
  if type(p) ~= "table" or type(p.run) ~= "string" then
    return
  end
  local r = M.get(p.run, ctx and ctx.client_id)
  seen = seen + 1
  r.seen = seen
  r.events = r.events + 1
  r.pipeline = p.pipeline or r.pipeline
  local ev = p.event
  if p.state then
    r.state = p.state
  end
  -- A `recorded` event's error is about the history, not the run.
  if val(p.error) and ev ~= "recorded" then
    r.error = p.error
  end
  local review = require("showrunner.review")
  if ev == "step" then
    if p.step then
      r.steps[p.step] = p.step_state or p.state
      r.step = p.step
    end
    review.on_event(r, p)
  elseif ev == "text" then
    local step = p.step or r.step or "output"
    r.step = step
    r.text[step] = (r.text[step] or "") .. (p.text or "")
    review.on_text(r, step, p.text or "")
  elseif ev == "gate" then
    local gate = p.gate or {}
    gate.run = p.run
    gate.pipeline = r.pipeline
    r.gate = gate
    r.text = {}
    review.on_gate(r, gate)
  elseif ev == "done" then
    r.gate = nil
    review.on_done(r, p)
    if p.state == "failed" then
      util.error(string.format("%s failed: %s", r.pipeline or p.run, val(p.error) or val(r.error) or "unknown error"))
    elseif p.state == "cancelled" then
      util.notify(string.format("%s cancelled", r.pipeline or p.run))
    else
      util.notify(string.format("%s %s", r.pipeline or p.run, p.state or "finished"))
    end
  elseif ev == "recorded" then
    -- The writer saved the buffer an approved edit went into: the edit is in the history now,
    -- as its own `apply_edit` event (or it could not be recorded, and the reason says why).
    r.recorded = { plan = val(p.plan), history_event = val(p.history_event), error = val(p.error) }
    local name = r.pipeline or p.run
    if val(p.error) then
      util.warn(string.format("the edit of %s was saved but is not in the history: %s", name, p.error))
    else
      util.notify(string.format("the edit of %s is in the history%s", name, val(p.history_event) and (" (" .. p.history_event .. ")") or ""))
    end
  else
    -- "state" (and anything newer): the state is already recorded.
    if r.gate and p.state ~= "waiting" then
      r.gate = nil
    end
    review.on_event(r, p)
  end
  vim.api.nvim_exec_autocmds("User", { pattern = "ShowrunnerRun", modeline = false, data = p })
end

--- The client of a server stopped: its runs not yet ended are `interrupted` (the next server
--- asks before going on with them), and their review window closes.
function M.on_exit(client_id)
  local stopped = {}
  for _, r in pairs(M.by_id) do
    if r.client_id == client_id and not M.is_final(r.state) and not M.is_stopped(r.state) then
      r.state = "interrupted"
      r.gate = nil
      table.insert(stopped, r.pipeline or r.run)
    end
  end
  local review = require("showrunner.review")
  local s = review.current
  if s and (s.client_id == client_id or (M.by_id[s.run] and M.by_id[s.run].state == "interrupted")) then
    review.close()
  end
  if #stopped > 0 then
    table.sort(stopped)
    util.warn(string.format(
      "the language server stopped during %s; when it starts again it asks about %s before going on",
      table.concat(stopped, ", "),
      #stopped > 1 and "them" or "it"
    ))
  end
end

--- A short status for statuslines: "rewrite-selection: running" or "".
function M.status()
  local a = M.active()
  if #a == 0 then
    return ""
  end
  local r = a[1]
  local s = string.format("%s: %s", r.pipeline or r.run, r.state)
  if #a > 1 then
    s = s .. string.format(" (+%d)", #a - 1)
  end
  return s
end

return M
