--- `:Showrunner {subcommand} [args]`: every action a writer starts from the editor, each a
--- workspace command of the server (extensions/PROTOCOL.md), with completion.
local util = require("showrunner.util")
local config = require("showrunner.config")
local lsp = require("showrunner.lsp")
local runs = require("showrunner.runs")

local M = {}

M.KINDS = { "character", "location", "item", "faction", "research", "note", "season", "arc", "act", "chapter" }

--- The scene buffer a command is about: the current buffer, or the scene behind the review or
--- context window.
local function scene_buf()
  local buf = vim.api.nvim_get_current_buf()
  if vim.b[buf].showrunner_review then
    local s = require("showrunner.review").current
    local r = s and runs.by_id[s.run]
    if r and r.bufnr and vim.api.nvim_buf_is_valid(r.bufnr) then
      return r.bufnr
    end
  end
  local ctx = require("showrunner.context").state
  if buf == ctx.buf and ctx.scene and vim.api.nvim_buf_is_valid(ctx.scene) then
    return ctx.scene
  end
  return buf
end

--- The selection of a command called with a range: `{ range, text }` in the client's encoding,
--- or nil. A range from Visual mode uses the `'<`/`'>` marks (charwise or linewise), any other
--- range (`:10,12Showrunner rewrite`) whole lines.
function M.selection(opts, bufnr, client)
  if not opts or (opts.range or 0) == 0 then
    return nil
  end
  local enc = client and client.offset_encoding or "utf-16"
  local s = vim.api.nvim_buf_get_mark(bufnr, "<")
  local e = vim.api.nvim_buf_get_mark(bufnr, ">")
  local from_visual = s[1] == opts.line1 and e[1] == opts.line2 and s[1] > 0
  local linewise = true
  local srow, scol, erow, ecol = opts.line1, 0, opts.line2, 0
  if from_visual then
    local mode = vim.fn.visualmode()
    linewise = mode == "V"
    srow, scol, erow, ecol = s[1], s[2], e[1], e[2]
    if mode == "\22" then
      linewise = false -- blockwise: taken as the characters from the first to the last corner
    end
  end
  return {
    range = util.selection_range(bufnr, srow, scol, erow, ecol, enc, linewise),
    text = util.selection_text(bufnr, srow, scol, erow, ecol, linewise),
  }
end

--- Starts a pipeline on a scene and records the run. `opts.args`: the arguments as a code
--- action or a lens gives them (kept; the editor's model is added when they name none).
function M.run_pipeline(pipeline, opts)
  opts = opts or {}
  local bufnr = opts.bufnr or scene_buf()
  local client = lsp.client(bufnr)
  if not client then
    util.error("no Showrunner language server for this buffer (open a scene inside a project)")
    return
  end
  local args = vim.tbl_extend("force", {}, opts.args or {})
  args.pipeline = pipeline
  args.uri = args.uri or vim.uri_from_bufnr(bufnr)
  if opts.range then
    args.range = opts.range
  end
  if opts.inputs then
    args.inputs = opts.inputs
  end
  local model = opts.model or args.model or config.options.model
  if model and model ~= vim.NIL then
    args.model = model
  end
  lsp.exec("showrunner.pipeline.run", args, function(err, res)
    if err then
      util.error(err)
      return
    end
    local run = type(res) == "table" and res.run or res
    if type(run) == "string" then
      runs.started(run, pipeline, client.id, bufnr)
      util.notify(string.format("%s started (%s)", pipeline, run))
    end
    if opts.on_started then
      opts.on_started(run)
    end
  end, { bufnr = bufnr, client = client })
end

local function pick_run(filter, prompt, on_choice)
  lsp.exec("showrunner.run.list", { uri = vim.uri_from_bufnr(scene_buf()) }, function(err, list)
    if err then
      util.error(err)
      return
    end
    local items = {}
    for _, r in ipairs(list or {}) do
      if not filter or filter(r) then
        table.insert(items, r)
      end
    end
    if #items == 0 then
      util.notify("no runs")
      return
    end
    vim.ui.select(items, {
      prompt = prompt,
      format_item = function(r)
        return string.format("%-9s %-20s %s  %s", r.state or "?", r.pipeline or "?", r.scene or "", r.run)
      end,
    }, function(choice)
      if choice then
        on_choice(choice)
      end
    end)
  end)
end

--- A read-only scratch float with lines (run status, history); `q` closes it.
function M.show_lines(title, lines, ft)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  if ft then
    vim.bo[buf].filetype = ft
  end
  local width = math.min(vim.o.columns - 4, math.max(40, math.floor(vim.o.columns * 0.7)))
  local height = math.min(vim.o.lines - 6, math.max(3, #lines))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor",
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    style = "minimal",
    border = config.options.review.border,
    title = " " .. title .. " ",
    title_pos = "center",
    footer = " q close ",
    footer_pos = "center",
  })
  vim.wo[win].wrap = true
  vim.keymap.set("n", "q", function()
    pcall(vim.api.nvim_win_close, win, true)
  end, { buffer = buf })
  return buf, win
end

local function show_status(run)
  lsp.exec("showrunner.run.status", { run = run }, function(err, st)
    if err then
      util.error(err)
      return
    end
    local lines = {
      string.format("run       %s", st.run or run),
      string.format("pipeline  %s", st.pipeline or "?"),
      string.format("state     %s", st.state or "?"),
      string.format("scene     %s", st.scene or ""),
    }
    if st.state == "interrupted" then
      table.insert(lines, "          the process driving it ended before it did; the server asks")
      table.insert(lines, "          before going on with it (a resume gate), or cancel it")
    end
    if st.error and st.error ~= vim.NIL then
      table.insert(lines, "error     " .. tostring(st.error))
    end
    table.insert(lines, "")
    table.insert(lines, "steps")
    for _, step in ipairs(st.steps or {}) do
      local model = (step.model and step.model ~= vim.NIL) and ("  " .. step.model) or ""
      table.insert(lines, string.format("  %-10s %-16s %-14s%s", step.state or "?", step.id or "?", step.type or "", model))
    end
    if type(st.output) == "string" and st.output ~= "" then
      table.insert(lines, "")
      table.insert(lines, "output")
      for _, l in ipairs(vim.split(st.output, "\n", { plain = true })) do
        table.insert(lines, "  " .. l)
      end
    end
    M.show_lines("Showrunner run", lines)
  end)
end

local function parse_words(fargs, from)
  local out = {}
  for i = from, #fargs do
    table.insert(out, fargs[i])
  end
  return table.concat(out, " ")
end

--- A subcommand's completion: its first argument from `list`, nothing after it.
local function first_argument(list)
  return function(_, args)
    if #args <= 2 then
      return list
    end
    return {}
  end
end

--- The subcommands: name → { run = fun(opts, fargs), complete = fun(arglead, args)?, desc }.
M.subcommands = {}
local S = M.subcommands

S.draft = {
  desc = "draft the scene (draft-scene)",
  run = function()
    M.run_pipeline("draft-scene")
  end,
}

S["continue"] = {
  desc = "continue the scene, from the selection when there is one (continue-scene)",
  run = function(opts)
    local buf = scene_buf()
    local sel = M.selection(opts, buf, lsp.client(buf))
    M.run_pipeline("continue-scene", { bufnr = buf, range = sel and sel.range })
  end,
}

S.rewrite = {
  desc = "rewrite the selection (rewrite-selection); use from Visual mode",
  run = function(opts)
    local buf = scene_buf()
    local sel = M.selection(opts, buf, lsp.client(buf))
    if not sel then
      util.error("rewrite needs a selection: select the passage, then :'<,'>Showrunner rewrite")
      return
    end
    M.run_pipeline("rewrite-selection", { bufnr = buf, range = sel.range })
  end,
}

S.research = {
  desc = "research a question (the words given, else the selection, else asked)",
  run = function(opts, fargs)
    local buf = scene_buf()
    local question = parse_words(fargs, 2)
    local function go(q)
      if not q or q == "" then
        return
      end
      local args = { question = q }
      if util.served_root(buf) then
        args.uri = vim.uri_from_bufnr(buf)
      end
      local client = lsp.client(buf)
      lsp.exec("showrunner.research", args, function(err, res)
        if err then
          util.error(err)
          return
        end
        if res and res.run then
          runs.started(res.run, "research", client and client.id, buf)
          util.notify("research started (" .. res.run .. ")")
        end
      end, { bufnr = buf })
    end
    if question == "" then
      local sel = M.selection(opts, buf, lsp.client(buf))
      question = sel and sel.text or ""
    end
    if question ~= "" then
      go(question)
    else
      vim.ui.input({ prompt = "Research: " }, go)
    end
  end,
}

S.ask = {
  desc = "ask the agents (the words given, else asked); the selection is sent along",
  run = function(opts, fargs)
    local buf = scene_buf()
    local client = lsp.client(buf)
    local sel = M.selection(opts, buf, client)
    local function go(text)
      if not text or text == "" then
        return
      end
      local args = { text = text }
      if util.served_root(buf) then
        args.uri = vim.uri_from_bufnr(buf)
      end
      if sel then
        args.range = sel.range
      end
      lsp.exec("showrunner.agent.ask", args, function(err, res)
        if err then
          util.error(err)
          return
        end
        if res and res.run then
          runs.started(res.run, res.agent or "agent", client and client.id, buf)
          util.notify(string.format("%s is on it (%s)%s", res.agent or "an agent", res.run, res.reason and (": " .. res.reason) or ""))
        end
      end, { bufnr = buf })
    end
    local text = parse_words(fargs, 2)
    if text ~= "" then
      go(text)
    else
      vim.ui.input({ prompt = "Ask: " }, go)
    end
  end,
}

S.context = {
  desc = "show or hide the context of the current scene in a side window",
  run = function()
    require("showrunner.context").toggle()
  end,
}

S.queue = {
  desc = "the approval queue: pick a gate to review",
  run = function()
    local client = lsp.client(scene_buf())
    lsp.exec("showrunner.gate.list", {}, function(err, list)
      if err then
        util.error(err)
        return
      end
      if not list or #list == 0 then
        util.notify("no gates are waiting")
        return
      end
      vim.ui.select(list, {
        prompt = "Approval queue",
        format_item = function(g)
          local judged = util.judged(g.confidence)
          return string.format("%-14s %-20s %-10s %s%s", g.kind or "?", g.pipeline or g.run, g.step or "?", g.model or "", judged and ("  " .. judged) or "")
        end,
      }, function(g)
        if g then
          require("showrunner.review").open_from_list(g, client and client.id)
        end
      end)
    end, { client = client })
  end,
}

S.runs = {
  desc = "list runs; pick one for its steps and state",
  run = function()
    pick_run(nil, "Runs", function(r)
      if r.state == "waiting" then
        lsp.exec("showrunner.gate.list", {}, function(err, list)
          for _, g in ipairs((not err and list) or {}) do
            if g.run == r.run then
              require("showrunner.review").open_from_list(g)
              return
            end
          end
          show_status(r.run)
        end)
      else
        show_status(r.run)
      end
    end)
  end,
}

S.cancel = {
  desc = "cancel a run (the id given, else picked from the active runs)",
  run = function(_, fargs)
    local function cancel(run)
      lsp.exec("showrunner.run.cancel", { run = run }, function(err, res)
        if err then
          util.error(err)
          return
        end
        util.notify(string.format("%s: %s", run, res and res.state or "cancelled"))
      end)
    end
    if fargs[2] then
      cancel(fargs[2])
      return
    end
    pick_run(function(r)
      return not runs.is_final(r.state)
    end, "Cancel which run?", function(r)
      cancel(r.run)
    end)
  end,
  complete = function()
    local list = lsp.exec_sync("showrunner.run.list", {}, 800) or {}
    local out = {}
    for _, r in ipairs(list) do
      if not runs.is_final(r.state) then
        table.insert(out, r.run)
      end
    end
    return out
  end,
}

local function timelines()
  return lsp.exec_sync("showrunner.timeline.list", {}, 800) or {}
end

S.timeline = {
  desc = "timelines: list, create NAME, switch NAME (no argument: pick one to switch to)",
  run = function(_, fargs)
    local action, name = fargs[2], fargs[3]
    local function switch(n)
      lsp.exec("showrunner.timeline.switch", { name = n }, function(err, res)
        if err then
          util.error(err)
          return
        end
        util.notify(string.format("on timeline %s (%d file(s) changed)", n, res and tonumber(res.changed) or 0))
      end)
    end
    if action == "create" then
      if not name then
        util.error("timeline create needs a NAME")
        return
      end
      lsp.exec("showrunner.timeline.create", { name = name, from_event = fargs[4] }, function(err)
        if err then
          util.error(err)
        else
          util.notify("timeline " .. name .. " created")
        end
      end)
    elseif action == "switch" and name then
      switch(name)
    elseif action == "list" then
      lsp.exec("showrunner.timeline.list", {}, function(err, list)
        if err then
          util.error(err)
          return
        end
        local lines = {}
        for _, t in ipairs(list or {}) do
          table.insert(lines, string.format("%s %s (%d events)", t.current and "*" or " ", t.name, t.events or 0))
        end
        util.notify("timelines\n" .. table.concat(lines, "\n"))
      end)
    else
      lsp.exec("showrunner.timeline.list", {}, function(err, list)
        if err then
          util.error(err)
          return
        end
        vim.ui.select(list or {}, {
          prompt = "Switch to timeline",
          format_item = function(t)
            return string.format("%s %s (%d events)", t.current and "*" or " ", t.name, t.events or 0)
          end,
        }, function(t)
          if t then
            switch(t.name)
          end
        end)
      end)
    end
  end,
  complete = function(_, args)
    if #args <= 2 then
      return { "list", "create", "switch" }
    end
    if args[2] == "switch" then
      local out = {}
      for _, t in ipairs(timelines()) do
        table.insert(out, t.name)
      end
      return out
    end
    return {}
  end,
}

local function model_names()
  local out, seen = {}, {}
  local function add(m)
    if type(m) == "string" and m ~= "" and not seen[m] then
      seen[m] = true
      table.insert(out, m)
    end
  end
  add(config.options.model)
  local list = lsp.exec_sync("showrunner.models.list", { uri = vim.uri_from_bufnr(scene_buf()) }, 800) or {}
  for _, m in ipairs(list) do
    add(type(m) == "table" and m.model or m)
  end
  return out
end

S.model = {
  desc = "the model for runs started here: MODEL, or `default` for the project's cascade, or picked",
  run = function(_, fargs)
    local function set(m)
      if m == nil then
        return
      end
      if m == "default" or m == "" then
        config.options.model = nil
        util.notify("runs use the project's model cascade")
      else
        config.options.model = m
        util.notify("runs started here use " .. m)
      end
    end
    if fargs[2] then
      set(fargs[2])
      return
    end
    local buf = scene_buf()
    lsp.exec("showrunner.models.resolve", { uri = vim.uri_from_bufnr(buf) }, function(_, resolved)
      local names = model_names()
      table.insert(names, "default")
      local cascade = resolved and resolved.model or "?"
      vim.ui.select(names, {
        prompt = string.format("Model (now %s; the cascade gives %s)", config.options.model or "the cascade", cascade),
      }, set)
    end, { bufnr = buf })
  end,
  complete = function()
    local names = model_names()
    table.insert(names, "default")
    return names
  end,
}

S.new = {
  desc = "create a bucket: new [KIND] [NAME…] (asked when missing), then open it",
  run = function(_, fargs)
    local buf = scene_buf()
    local root = util.project_root(buf) or vim.fs.root(vim.fn.getcwd(), util.MARKER)
    local function create(kind, name)
      if not kind or kind == "" or not name or name == "" then
        return
      end
      local args = { kind = kind, name = name }
      if root then
        args.project = root
      end
      lsp.exec("showrunner.bucket.create", args, function(err, res)
        if err then
          util.error(err)
          return
        end
        util.notify(string.format("%s %s created", kind, res.id))
        if res.uri then
          vim.cmd.edit(vim.fn.fnameescape(vim.uri_to_fname(res.uri)))
        end
      end, { bufnr = buf })
    end
    local kind, name = fargs[2], parse_words(fargs, 3)
    local function ask_name(k)
      if not k then
        return
      end
      if name ~= "" then
        create(k, name)
      else
        vim.ui.input({ prompt = "Name of the new " .. k .. ": " }, function(n)
          create(k, n)
        end)
      end
    end
    if kind then
      ask_name(kind)
    else
      vim.ui.select(M.KINDS, { prompt = "Kind of bucket" }, ask_name)
    end
  end,
  complete = first_argument(M.KINDS),
}

S.run = {
  desc = "run any pipeline (quick actions, templates, the project's own) on the scene",
  run = function(opts, fargs)
    local buf = scene_buf()
    local sel = M.selection(opts, buf, lsp.client(buf))
    local function go(id)
      if id then
        M.run_pipeline(id, { bufnr = buf, range = sel and sel.range })
      end
    end
    if fargs[2] then
      go(fargs[2])
      return
    end
    lsp.exec("showrunner.pipeline.list", { uri = vim.uri_from_bufnr(buf) }, function(err, list)
      if err then
        util.error(err)
        return
      end
      vim.ui.select(list or {}, {
        prompt = "Pipeline",
        format_item = function(p)
          return string.format("%-20s %s (%s)", p.id, p.title or "", p.layer or "")
        end,
      }, function(p)
        go(p and p.id)
      end)
    end, { bufnr = buf })
  end,
  complete = function()
    local list = lsp.exec_sync("showrunner.pipeline.list", { uri = vim.uri_from_bufnr(scene_buf()) }, 800) or {}
    local out = {}
    for _, p in ipairs(list) do
      table.insert(out, p.id)
    end
    return out
  end,
}

S.history = {
  desc = "the history of the current file (newest first)",
  run = function()
    local buf = scene_buf()
    lsp.exec("showrunner.history", { uri = vim.uri_from_bufnr(buf) }, function(err, events)
      if err then
        util.error(err)
        return
      end
      local lines = {}
      for _, e in ipairs(events or {}) do
        local when = e.time and os.date("%Y-%m-%d %H:%M:%S", math.floor(e.time / 1000)) or ""
        table.insert(lines, string.format("%s  %-10s %-12s %s  v%s", when, e.actor or "?", e.type or "?", e.path or "", tostring(e.new_version or "")))
      end
      if #lines == 0 then
        lines = { "no history yet" }
      end
      M.show_lines("History · " .. vim.fn.fnamemodify(vim.api.nvim_buf_get_name(buf), ":t"), lines)
    end, { bufnr = buf })
  end,
}

S.stats = {
  desc = "words, goals (today, session, deadline) and the mention heatmap of the project",
  run = function()
    local buf = scene_buf()
    local args = { format = "text" }
    if util.served_root(buf) then
      args.uri = vim.uri_from_bufnr(buf)
    end
    require("showrunner.words").refresh(buf)
    lsp.exec("showrunner.stats", args, function(err, res)
      if err then
        util.error(err)
        return
      end
      M.show_lines("Stats", (util.to_lines(res and res.text or "")))
    end, { bufnr = buf })
  end,
}

--- The export formats, as the server's protocol names them (`ExportFormat` in
--- extensions/protocol.schema.json, generated from the server's list; the tests hold this one to it).
M.export_formats = { "docx", "pdf", "fdx", "epub", "md", "fountain" }

S.export = {
  desc = "export the project, a part (TARGET: a structure or scene id) or this scene (TARGET `%`): docx, pdf, fdx, epub, md or fountain",
  complete = first_argument(M.export_formats),
  run = function(_, fargs)
    local buf = scene_buf()
    local function go(format)
      if not format or format == "" then
        return
      end
      local args = { uri = vim.uri_from_bufnr(buf), format = format }
      local target = fargs[3]
      if target == "%" then
        target = vim.uri_from_bufnr(buf)
      end
      args.target = target
      lsp.exec("showrunner.export", args, function(err, res)
        if err then
          util.error(err)
          return
        end
        util.notify(string.format("wrote %s (%d scenes, %d words)", res.path, res.scenes or 0, res.words or 0))
      end, { bufnr = buf })
    end
    if fargs[2] then
      go(fargs[2])
    else
      vim.ui.select(M.export_formats, { prompt = "Export as" }, go)
    end
  end,
}

S.search = {
  desc = "search the story and everything the project's runs said; pick a hit to open its file",
  run = function(_, fargs)
    local buf = scene_buf()
    local root = util.served_root(buf)
    local function go(query)
      if not query or vim.trim(query) == "" then
        return
      end
      local args = { query = query }
      if root then
        args.uri = vim.uri_from_bufnr(buf)
      end
      lsp.exec("showrunner.search", args, function(err, hits)
        if err then
          util.error(err)
          return
        end
        if not hits or #hits == 0 then
          util.notify(string.format("nothing matches “%s”", query))
          return
        end
        vim.ui.select(hits, {
          prompt = "Search: " .. query,
          format_item = function(h)
            local run = h.run and (" · run " .. h.run) or ""
            local snippet = (h.snippet or ""):gsub("%s+", " ")
            return string.format("[%s] %s %s%s — %s", h.kind or "", h.title or "", h.path or "", run, snippet)
          end,
        }, function(h)
          if h and h.path and root then
            vim.cmd.edit(vim.fn.fnameescape(root .. "/" .. h.path))
          end
        end)
      end, { bufnr = buf })
    end
    if #fargs > 1 then
      go(table.concat(vim.list_slice(fargs, 2), " "))
    else
      vim.ui.input({ prompt = "Search: " }, go)
    end
  end,
}

--- Splits `--name value` options from the other words of a command, from `fargs[from]` on.
--- `spec[name]` is "flag" (no value), "value" (the next word) or "words" (the words up to the
--- next option, joined: `--where words == 0`). Returns the other words and the options, or nil
--- and why not.
function M.parse_options(fargs, from, spec)
  local words, opts = {}, {}
  local i = from
  while i <= #fargs do
    local name = fargs[i]:match("^%-%-(%a[%w-]*)$")
    if not name then
      table.insert(words, fargs[i])
      i = i + 1
    elseif not spec[name] then
      local known = vim.tbl_map(function(n)
        return "--" .. n
      end, vim.tbl_keys(spec))
      table.sort(known)
      return nil, string.format("unknown option `%s` (one of: %s)", fargs[i], table.concat(known, ", "))
    elseif spec[name] == "flag" then
      opts[name] = true
      i = i + 1
    else
      local value = {}
      i = i + 1
      while i <= #fargs and not fargs[i]:match("^%-%-%a") and (spec[name] == "words" or #value == 0) do
        table.insert(value, fargs[i])
        i = i + 1
      end
      if #value == 0 then
        return nil, string.format("`--%s` needs a value", name)
      end
      opts[name] = table.concat(value, " ")
    end
  end
  return words, opts
end

--- The arguments every batch and plan command carries: the buffer's project (else the server's
--- only one) and the model chosen here.
local function project_args(buf, args)
  if util.served_root(buf) then
    args.uri = vim.uri_from_bufnr(buf)
  end
  return args
end

--- Parts of the story a batch or a plan can name (`.`, seasons, arcs, acts, chapters), from
--- the server's graph; for completion.
local function structure_ids()
  local g = lsp.exec_sync("showrunner.graph", project_args(scene_buf(), { format = "json" }), 800) or {}
  local out = { "." }
  for _, n in ipairs(type(g) == "table" and g.nodes or {}) do
    if n.layer == "structure" and n.kind ~= "scene" then
      table.insert(out, n.id)
    end
  end
  return out
end

--- Pipelines a batch can run: not the quick actions, which work on a selection (the server
--- refuses any other that needs one, and says so).
local function batchable(list)
  return vim.tbl_filter(function(p)
    return p.layer ~= "quick_action"
  end, list or {})
end

--- The latest batch, for completion (nil when the project has none).
local function latest_batch()
  local st = lsp.exec_sync("showrunner.batch.status", project_args(scene_buf(), {}), 800)
  return type(st) == "table" and st.batch or nil
end

--- What `:Showrunner batch status` shows: the batch, its counts as the terminal words them,
--- then each run.
function M.batch_lines(st)
  local lines = {
    string.format("batch     %s%s", st.batch or "?", st.working and "  (worked by this server)" or ""),
    string.format("          %s", st.summary or ""),
  }
  if (tonumber(st.cancelled) or 0) > 0 then
    table.insert(lines, string.format("          %d cancelled", st.cancelled))
  end
  table.insert(lines, "")
  table.insert(lines, "runs")
  for _, r in ipairs(st.runs or {}) do
    local scene = type(r.scene) == "string" and vim.fn.fnamemodify(r.scene, ":t") or ""
    table.insert(lines, string.format("  %-10s %-18s %-24s %s", r.state or "?", r.pipeline or "?", scene, r.run or "?"))
  end
  return lines
end

local BATCH_OPTIONS = { judge = "flag", where = "words", jobs = "value" }

local batch_actions = {
  status = function(buf, batch)
    lsp.exec("showrunner.batch.status", project_args(buf, { batch = batch }), function(err, st)
      if err then
        util.error(err)
        return
      end
      M.show_lines("Showrunner batch", M.batch_lines(st))
    end, { bufnr = buf })
  end,
  cancel = function(buf, batch)
    lsp.exec("showrunner.batch.cancel", project_args(buf, { batch = batch }), function(err, res)
      if err then
        util.error(err)
        return
      end
      util.notify(string.format("batch %s: %d run(s) asked to stop", res.batch, res.asked or 0))
    end, { bufnr = buf })
  end,
  approve = function(buf, score, batch)
    local min = tonumber(score)
    if not min then
      util.error("batch approve needs a SCORE from 0 to 1 (the judge's), e.g. :Showrunner batch approve 0.9")
      return
    end
    lsp.exec("showrunner.batch.approve", project_args(buf, { batch = batch, min_confidence = min }), function(err, res)
      if err then
        util.error(err)
        return
      end
      util.notify(string.format("batch %s: %d gate(s) approved (judged %s or more)", res.batch, res.approved or 0, score))
    end, { bufnr = buf })
  end,
}

local function batch_run(buf, pipeline, targets, opts)
  local args = project_args(buf, { pipeline = pipeline, targets = targets, judge = opts.judge == true, where = opts.where })
  if opts.jobs then
    args.jobs = tonumber(opts.jobs)
    if not args.jobs then
      util.error("`--jobs` needs a number")
      return
    end
  end
  args.model = config.options.model
  lsp.exec("showrunner.batch.run", args, function(err, res)
    if err then
      util.error(err)
      return
    end
    util.notify(string.format(
      "batch %s: %d run(s) of %s queued%s; their gates come to the queue (:Showrunner queue, :Showrunner batch status)",
      res.batch,
      res.queued or 0,
      pipeline,
      opts.judge and ", each judged" or ""
    ))
  end, { bufnr = buf })
end

S.batch = {
  desc = "a pipeline on many scenes: batch PIPELINE TARGET… [--judge] [--where EXPR] [--jobs N]; batch status|cancel [BATCH]; batch approve SCORE [BATCH]",
  run = function(_, fargs)
    local buf = scene_buf()
    local action = batch_actions[fargs[2]]
    if action then
      if fargs[2] == "approve" then
        action(buf, fargs[3], fargs[4])
      else
        action(buf, fargs[3])
      end
      return
    end
    local words, opts = M.parse_options(fargs, 2, BATCH_OPTIONS)
    if not words then
      util.error(opts)
      return
    end
    local function with_targets(pipeline)
      if not pipeline then
        return
      end
      local targets = vim.list_slice(words, 2)
      if #targets > 0 then
        batch_run(buf, pipeline, targets, opts)
        return
      end
      vim.ui.input({ prompt = "Batch " .. pipeline .. " on (scenes, folders, ch01, season-1, . for all): " }, function(text)
        local typed = vim.split(vim.trim(text or ""), "%s+", { trimempty = true })
        if #typed > 0 then
          batch_run(buf, pipeline, typed, opts)
        end
      end)
    end
    if words[1] then
      with_targets(words[1])
      return
    end
    lsp.exec("showrunner.pipeline.list", project_args(buf, {}), function(err, list)
      if err then
        util.error(err)
        return
      end
      vim.ui.select(batchable(list), {
        prompt = "Batch: pipeline",
        format_item = function(p)
          return string.format("%-20s %s (%s)", p.id, p.title or "", p.layer or "")
        end,
      }, function(p)
        with_targets(p and p.id)
      end)
    end, { bufnr = buf })
  end,
  complete = function(_, args)
    if #args <= 2 then
      local out = { "status", "cancel", "approve" }
      local list = lsp.exec_sync("showrunner.pipeline.list", project_args(scene_buf(), {}), 800)
      for _, p in ipairs(batchable(list)) do
        table.insert(out, p.id)
      end
      return out
    end
    if batch_actions[args[2]] then
      local batch_at = args[2] == "approve" and 4 or 3
      if #args == batch_at then
        return { latest_batch() }
      end
      return {}
    end
    local previous = args[#args - 1]
    if previous == "--where" or previous == "--jobs" then
      return {}
    end
    return vim.list_extend(structure_ids(), { "--judge", "--where", "--jobs" })
  end,
}

S.plan = {
  desc = "a goal turned into a plan you approve, then run as one batch: plan GOAL… [--scope ID]",
  run = function(_, fargs)
    local buf = scene_buf()
    local words, opts = M.parse_options(fargs, 2, { scope = "value" })
    if not words then
      util.error(opts)
      return
    end
    local function go(goal)
      if not goal or vim.trim(goal) == "" then
        return
      end
      local args = project_args(buf, { goal = vim.trim(goal), scope = opts.scope, model = config.options.model })
      local client = lsp.client(buf)
      lsp.exec("showrunner.plan", args, function(err, res)
        if err then
          util.error(err)
          return
        end
        runs.started(res.run, "plan", client and client.id, buf)
        util.notify(string.format("planning (%s): review its prompt, then the plan, at its gates", res.run))
      end, { bufnr = buf, client = client })
    end
    if #words > 0 then
      go(table.concat(words, " "))
    else
      vim.ui.input({ prompt = "Plan: goal: " }, go)
    end
  end,
  complete = function(_, args)
    if args[#args - 1] == "--scope" then
      return structure_ids()
    end
    return { "--scope" }
  end,
}

--- The subcommand names, sorted.
function M.names()
  local names = vim.tbl_keys(S)
  table.sort(names)
  return names
end

--- `:Showrunner` itself.
function M.dispatch(opts)
  local name = opts.fargs[1]
  if not name then
    local lines = {}
    for _, n in ipairs(M.names()) do
      table.insert(lines, string.format("  %-9s %s", n, S[n].desc))
    end
    util.notify("subcommands:\n" .. table.concat(lines, "\n"))
    return
  end
  local sub = S[name]
  if not sub then
    util.error(string.format("unknown subcommand `%s` (one of: %s)", name, table.concat(M.names(), ", ")))
    return
  end
  sub.run(opts, opts.fargs)
end

--- Command-line completion.
function M.complete(arglead, cmdline, _)
  -- Skip a range (`'<,'>`, `10,12`) and the command's name; what is left are the arguments,
  -- the last one being completed (empty after a trailing space).
  local rest = cmdline:match("^[^%a]*%a+!?%s+(.*)$") or ""
  local args = vim.split(rest, "%s+")
  local candidates
  if #args <= 1 then
    candidates = M.names()
  else
    local sub = S[args[1]]
    candidates = sub and sub.complete and sub.complete(arglead, args) or {}
  end
  return vim.tbl_filter(function(c)
    return vim.startswith(c, arglead)
  end, candidates)
end

function M.setup()
  vim.api.nvim_create_user_command("Showrunner", M.dispatch, {
    nargs = "*",
    range = true,
    complete = M.complete,
    desc = "Showrunner: draft, continue, rewrite, research, ask, context, queue, runs, cancel, batch, plan, timeline, model, new",
  })
end

return M
