-- Batches and plans from Neovim, against the real server: `:Showrunner batch summarize-scene
-- ch01 --judge` queues a judged run per scene of chapter 1, which the server works; their gates
-- reach the queue and the review window with the judge's score; `:Showrunner batch status`
-- shows the counts and the runs; `:Showrunner batch approve 0.9` approves the three answers
-- judged 0.95 (their summaries land) and leaves the one judged 0.8; `:Showrunner batch cancel`
-- stops it. Then `:Showrunner plan`: its prompt and its plan are approved in the review window,
-- and its batch's run waits at its gate, judged.
-- The model is tests/nvim/model_server.py, answering by what it is asked (`when`), since runs
-- of a batch ask at once.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/helpers.lua")

local function verdict(score)
  return vim.json.encode({ confidence = score, issues = {}, sensitive_topics = {} })
end
local model = H.model_server({
  { when = "Plan the work", text = '{"tasks": [{"id": "sum", "pipeline": "summarize-scene", "target": "arrival", "why": "one line"}]}' },
  -- The judge: the supper's summary is judged 0.8, every other answer 0.95.
  { when = "Summary of supper.", text = verdict(0.8) },
  { when = "Score this text", text = verdict(0.95) },
  { when = "The boat from Port Ainsley", text = "Summary of arrival." },
  { when = "The wireless hut stood", text = "Summary of hut." },
  { when = "Tom Marlowe had kept lights", text = "Summary of supper." },
  { when = "Summarize this scene", text = "Summary of the episode." },
})
local root = H.project({ model_url = model.url })
H.setup()

-- Every work-done progress message the server sends, as Neovim reports it (LspProgress).
local progress = {}
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(args)
    local p = args.data and args.data.params
    if p and p.value then
      table.insert(progress, { token = p.token, kind = p.value.kind, title = p.value.title, message = p.value.message })
    end
  end,
})

local scene = H.open(root .. "/story/ch01/01-arrival.md")
local runs = require("showrunner.runs")
local review = require("showrunner.review")

local note_matching = H.note_matching

--- Waits for a notification matching `pattern` that came after the first `since` ones.
local function wait_note(what, pattern, since)
  return H.wait(what, function()
    for i = since + 1, #H.notes do
      if tostring(H.notes[i].msg):find(pattern) then
        return H.notes[i]
      end
    end
  end)
end

--- Runs a `:Showrunner` command line and waits for the notification it ends with.
local function command_note(cmdline, pattern)
  local since = #H.notes
  vim.cmd(cmdline)
  return wait_note(cmdline .. " → " .. pattern, pattern, since)
end

local function title_of(win)
  local t = vim.api.nvim_win_get_config(win).title
  if type(t) == "table" then
    return table.concat(vim.tbl_map(function(c)
      return type(c) == "table" and c[1] or c
    end, t))
  end
  return t or ""
end

--- `:Showrunner batch status …` and the text of the float it opens (then closed).
local function batch_status(cmdline)
  local before = {}
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    before[w] = true
  end
  vim.cmd(cmdline or "Showrunner batch status")
  local win = H.wait("the batch status float", function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if not before[w] and title_of(w):find("Showrunner batch", 1, true) then
        return w
      end
    end
  end)
  local text = H.text(vim.api.nvim_win_get_buf(win))
  vim.api.nvim_win_close(win, true)
  return text
end

--- The runs of a pipeline the editor heard of (from showrunner/runProgress), by scene file.
local function runs_of(pipeline, except)
  local out = {}
  for _, r in pairs(runs.by_id) do
    if r.pipeline == pipeline and not (except and except[r.run]) then
      table.insert(out, r)
    end
  end
  return out
end

local function count(list, pred)
  local n = 0
  for _, x in ipairs(list) do
    if pred(x) then
      n = n + 1
    end
  end
  return n
end

H.test("completion: the batch actions and the pipelines a batch can run, then parts of the story", function()
  H.ok(vim.tbl_contains(vim.fn.getcompletion("Showrunner ", "cmdline"), "batch"), "batch is a subcommand")
  H.ok(vim.tbl_contains(vim.fn.getcompletion("Showrunner ", "cmdline"), "plan"), "plan is a subcommand")
  local second = vim.fn.getcompletion("Showrunner batch ", "cmdline")
  for _, want in ipairs({ "status", "cancel", "approve", "summarize-scene", "draft-scene" }) do
    H.ok(vim.tbl_contains(second, want), want .. " in " .. vim.inspect(second))
  end
  H.ok(not vim.tbl_contains(second, "rewrite-selection"), "a quick action (a selection) is left out: " .. vim.inspect(second))
  local targets = vim.fn.getcompletion("Showrunner batch summarize-scene ", "cmdline")
  for _, want in ipairs({ ".", "ch01", "season-1", "--judge", "--where" }) do
    H.ok(vim.tbl_contains(targets, want), want .. " in " .. vim.inspect(targets))
  end
  H.ok(not vim.tbl_contains(targets, "alice"), "a character is no target")
  H.eq({ "ch01", "ch02", "ch03", "ch04" }, vim.fn.getcompletion("Showrunner batch summarize-scene ch01 ch0", "cmdline"), "more targets")
  H.eq({ "act-1", "act-2" }, vim.fn.getcompletion("Showrunner plan Tighten it --scope act", "cmdline"), "plan scopes")
end)

H.test("before any batch: status says so, the server's words", function()
  command_note("Showrunner batch status", "no batch in this project yet")
end)

H.test("the server's refusals are shown: a selection pipeline, a scope that is not there; a bad option is caught here", function()
  local n = command_note("Showrunner batch rewrite-selection ch01", "works on a selection")
  H.eq(vim.log.levels.ERROR, n.level, "an error")
  n = command_note("Showrunner plan Summaries --scope ch99", "nothing called `ch99`")
  H.eq(vim.log.levels.ERROR, n.level, "an error")
  command_note("Showrunner batch summarize-scene ch01 --frob", "unknown option `%-%-frob` %(one of: %-%-jobs, %-%-judge, %-%-where%)")
  command_note("Showrunner batch summarize-scene ch01 --where", "`%-%-where` needs a value")
  H.eq(0, #runs_of("summarize-scene"), "nothing started")
end)

local batch

H.test("batch summarize-scene ch01 --judge: a judged run per scene, each at its gate with the judge's score", function()
  local n = command_note("Showrunner batch summarize-scene ch01 --judge --jobs 2", "run%(s%) of summarize%-scene queued")
  batch = tostring(n.msg):match("batch (%S+): 4 run%(s%) of summarize%-scene queued, each judged")
  H.ok(batch, "four queued, judged: " .. tostring(n.msg))
  local gated = H.wait("four runs at their gates", function()
    local list = runs_of("summarize-scene")
    return count(list, function(r)
      return r.gate ~= nil
    end) == 4 and list
  end)
  local seen = {}
  for _, r in ipairs(gated) do
    table.insert(seen, string.format("%s %.2f", r.gate.kind, r.gate.confidence))
  end
  table.sort(seen)
  H.eq({ "approve_output 0.95", "approve_output 0.95", "approve_output 0.95", "judge 0.80" }, seen, "gates and scores")
  -- The review window shows one of them, with its score in the title.
  local s = H.wait("a gate in the review window", function()
    local cur = review.current
    return cur and cur.mode == "gate" and cur.win and vim.api.nvim_win_is_valid(cur.win) and cur
  end)
  local shown = runs.by_id[s.run]
  H.contains(title_of(s.win), require("showrunner.util").judged(shown.gate.confidence), "the score in the title")
end)

H.test("batch status: the counts as the terminal words them, and every run", function()
  local text = batch_status()
  H.contains(text, "batch     " .. batch, "the latest batch")
  H.contains(text, "0/4 done · 0 running · 4 waiting at a gate · 0 failed · 0 queued", "the counts")
  for _, file in ipairs({ "01-arrival.md", "02-the-hut.md", "03-supper.md", "episode-01.fountain" }) do
    H.ok(text:find("waiting%s+summarize%-scene%s+" .. vim.pesc(file)), file .. " waiting in:\n" .. text)
  end
  H.eq(text, batch_status("Showrunner batch status " .. batch), "named, the same batch")
end)

H.test("the batch's progress reaches Neovim (LspProgress, vim.lsp.status()) in the same words", function()
  local token = "showrunner/batch/" .. batch
  H.wait("the batch's progress with its four runs at gates", function()
    for _, p in ipairs(progress) do
      if p.token == token and p.kind == "report" and p.message == "0/4 done · 0 running · 4 waiting at a gate · 0 failed · 0 queued" then
        return true
      end
    end
  end)
  local began = vim.tbl_filter(function(p)
    return p.token == token and p.kind == "begin"
  end, progress)
  H.eq(1, #began, "one progress for the batch")
  H.contains(began[1].title, batch, "titled with the batch")
end)

H.test("the queue names the judge's score of each gate", function()
  local shown
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    shown = table.concat(vim.tbl_map(opts.format_item, items), "\n")
    on_choice(nil)
  end
  vim.cmd("Showrunner queue")
  H.wait("the queue", function()
    return shown
  end)
  vim.ui.select = select
  H.ok(shown:find("judge .*judged 0%.80"), "the supper's judge gate: " .. shown)
  local _, well = shown:gsub("approve_output[^\n]*judged 0%.95", "")
  H.eq(3, well, "three output gates judged 0.95:\n" .. shown)
end)

H.test("batch approve: a score is a number from 0 to 1 (here, then the server)", function()
  local n = command_note("Showrunner batch approve lots", "needs a SCORE from 0 to 1")
  H.eq(vim.log.levels.ERROR, n.level, "an error")
  command_note("Showrunner batch approve 2", "is a score from 0 to 1, not 2")
  H.eq(4, count(runs_of("summarize-scene"), function(r)
    return r.state == "waiting"
  end), "nothing approved")
end)

H.test("batch approve 0.9: the three answers judged 0.95 are approved and land; the one judged 0.8 waits", function()
  command_note("Showrunner batch approve 0.9", "batch " .. vim.pesc(batch) .. ": 3 gate%(s%) approved %(judged 0%.9 or more%)")
  H.wait("three runs succeeded", function()
    return count(runs_of("summarize-scene"), function(r)
      return r.state == "succeeded"
    end) == 3
  end)
  -- The open scene gets its summary in the buffer (unsaved); the others on disk.
  H.contains(H.text(scene), 'summary: "Summary of arrival."', "the open scene's buffer")
  H.ok(vim.bo[scene].modified, "left unsaved for the writer")
  H.contains(H.read(root .. "/story/ch01/02-the-hut.md"), "Summary of hut.", "the hut on disk")
  H.ok(not H.read(root .. "/story/ch01/03-supper.md"):find("Summary of supper.", 1, true), "the supper is not summarised")
  local supper = H.wait("the supper's run", function()
    for _, r in ipairs(runs_of("summarize-scene")) do
      if r.state ~= "succeeded" then
        return r
      end
    end
  end)
  H.eq("waiting", supper.state, "still at its gate")
  H.contains(batch_status(), "3/4 done · 0 running · 1 waiting at a gate · 0 failed · 0 queued", "the counts")
end)

H.test("batch cancel: the run left is stopped, and status shows it", function()
  command_note("Showrunner batch cancel", "batch " .. vim.pesc(batch) .. ": 1 run%(s%) asked to stop")
  H.wait("the supper's run cancelled", function()
    return count(runs_of("summarize-scene"), function(r)
      return r.state == "cancelled"
    end) == 1
  end)
  local text = batch_status()
  H.contains(text, "3/4 done · 0 running · 0 waiting at a gate · 0 failed · 0 queued", "the counts")
  H.contains(text, "1 cancelled", "the cancelled run counted")
  H.ok(text:find("cancelled%s+summarize%-scene%s+03%-supper%.md"), "the supper's run:\n" .. text)
  H.ok(not H.read(root .. "/story/ch01/03-supper.md"):find("Summary of supper.", 1, true), "still not summarised")
end)

local function wait_gate(run, kind)
  return H.wait(("the %s gate of %s in the review window"):format(kind, run), function()
    local s = review.current
    return s
      and s.run == run
      and s.mode == "gate"
      and s.kind == kind
      and s.win
      and vim.api.nvim_win_is_valid(s.win)
      and vim.api.nvim_get_current_win() == s.win
      and s
  end)
end

H.test("plan: its prompt, then the plan (list, graph, JSON) are approved in the review window; its batch's run waits judged", function()
  local before = {}
  for _, r in ipairs(runs_of("summarize-scene")) do
    before[r.run] = true
  end
  local n = command_note("Showrunner plan Summarize the arrival --scope ch01", "planning %(")
  local run = tostring(n.msg):match("planning %((%S+)%)")
  local s = wait_gate(run, "review_prompt")
  H.contains(H.text(s.buf), "Summarize the arrival", "the goal in the planner's prompt")
  H.keys("ga")
  s = wait_gate(run, "approve_output")
  local plan = H.text(s.buf)
  H.contains(plan, "summarize-scene", "the task")
  H.contains(plan, "```json", "the JSON that runs")
  H.contains(plan, "## Graph", "the graph")
  H.keys("ga")
  H.wait("the plan run succeeded", function()
    return runs.by_id[run].state == "succeeded"
  end)
  local planned = H.wait("the plan's run at its gate", function()
    local list = runs_of("summarize-scene", before)
    return #list == 1 and list[1].gate and list[1]
  end)
  H.eq("approve_output", planned.gate.kind, "an output gate after the judge")
  H.eq(0.95, planned.gate.confidence, "the judge's score")
  local text = batch_status()
  H.ok(not text:find(batch, 1, true), "the plan's batch is now the latest:\n" .. text)
  H.contains(text, "0/1 done · 0 running · 1 waiting at a gate · 0 failed · 0 queued", "its one run")
  command_note("Showrunner batch approve 0.95", ": 1 gate%(s%) approved")
  H.wait("the plan's run succeeded", function()
    return planned.state == "succeeded"
  end)
end)

H.finish()
