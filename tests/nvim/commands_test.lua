-- `:Showrunner` subcommands that need no model: completion, the context side window (refreshed
-- on save), timelines, new buckets, the model for runs, history, and `:checkhealth showrunner`.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/helpers.lua")

local model = H.model_server({ { text = "unused" } })
local root = H.project({ model_url = model.url })
H.setup()

local scene, client = H.open(root .. "/story/ch01/01-arrival.md")

--- Answers the next vim.ui.select / vim.ui.input with `pick(items)` / `answer`.
local function stub_select(pick)
  vim.ui.select = function(items, opts, on_choice)
    on_choice(pick(items, opts))
  end
end
local function stub_input(answer)
  vim.ui.input = function(_, on_confirm)
    on_confirm(answer)
  end
end

local function last_note()
  return H.notes[#H.notes] and H.notes[#H.notes].msg or ""
end

local note_matching = H.note_matching

H.test(":Showrunner completes every subcommand", function()
  local got = vim.fn.getcompletion("Showrunner ", "cmdline")
  for _, name in ipairs({ "draft", "continue", "rewrite", "research", "ask", "context", "queue", "runs", "cancel", "timeline", "model", "new" }) do
    H.ok(vim.tbl_contains(got, name), "missing subcommand " .. name .. " in " .. vim.inspect(got))
  end
  H.eq({ "research", "rewrite", "run", "runs" }, vim.fn.getcompletion("Showrunner r", "cmdline"), "prefix r")
  H.eq({ "rewrite" }, vim.fn.getcompletion("'<,'>Showrunner rew", "cmdline"), "after a range")
  H.eq({ "list", "create", "switch" }, vim.fn.getcompletion("Showrunner timeline ", "cmdline"), "timeline actions")
  H.ok(vim.tbl_contains(vim.fn.getcompletion("Showrunner new ", "cmdline"), "character"), "bucket kinds")
  H.eq({ "main" }, vim.fn.getcompletion("Showrunner timeline switch ", "cmdline"), "timeline names from the server")
end)

H.test("an unknown subcommand is an error naming the valid ones", function()
  vim.cmd("Showrunner frobnicate")
  H.contains(last_note(), "unknown subcommand `frobnicate`")
  H.contains(last_note(), "rewrite")
end)

local function context_text()
  local st = require("showrunner.context").state
  if not (st.buf and vim.api.nvim_buf_is_valid(st.buf)) then
    return nil
  end
  return H.text(st.buf)
end

H.test(":Showrunner context shows the scene's context in a side window", function()
  vim.cmd("Showrunner context")
  local st = require("showrunner.context").state
  H.ok(st.win and vim.api.nvim_win_is_valid(st.win), "side window open")
  H.eq(scene, vim.api.nvim_get_current_buf(), "the cursor stays in the scene")
  H.eq(vim.api.nvim_win_get_config(st.win).relative, "", "a split, not a float")
  local text = H.wait("the context items", function()
    local t = context_text()
    return t and t:find("● alice", 1, true) and t
  end)
  H.contains(text, "point-of-view character", "reasons are shown")
  H.contains(text, "/ 6,000 tokens", "budget")
  H.contains(text, "● lukasz (character)", "mentioned Łukasz")
  H.contains(text, "Łukasz left Kraków", "the bucket's text")
  H.ok(not text:find("● merrow", 1, true), "the ship is not in the context yet")
end)

H.test("the context window refreshes when the scene is saved", function()
  local before = require("showrunner.context").state.refreshed
  vim.api.nvim_buf_set_lines(scene, -1, -1, false, { "", "Far out past the Narrows, the Merrow was running for shelter with her lights doused." })
  vim.cmd("silent write")
  local text = H.wait("merrow in the context after :write", function()
    local t = context_text()
    return t and t:find("● merrow", 1, true) and t
  end)
  H.contains(text, "mentioned 1×", "reason for the new item")
  H.ok(require("showrunner.context").state.refreshed > before, "refreshed")
  vim.cmd("Showrunner context")
  H.ok(not require("showrunner.context").is_open(), "toggled closed")
end)

H.test(":Showrunner history lists the save", function()
  vim.cmd("Showrunner history")
  local text = H.wait("the history float", function()
    local buf = vim.api.nvim_get_current_buf()
    local t = H.text(buf)
    return vim.api.nvim_win_get_config(0).relative ~= "" and t:find("story/ch01/01%-arrival%.md") and t
  end)
  H.contains(text, "user", "actor")
  vim.cmd("close")
  H.eq(scene, vim.api.nvim_get_current_buf(), "back in the scene")
end)

H.test(":Showrunner search picks a hit and opens its file", function()
  local shown
  stub_select(function(items, opts)
    shown = vim.tbl_map(opts.format_item, items)
    for _, h in ipairs(items) do
      if h.path == "buckets/places/gannet-rock.yaml" then
        return h
      end
    end
  end)
  vim.cmd("Showrunner search lamp room")
  H.wait("the bucket opened", function()
    return vim.api.nvim_buf_get_name(0):find("gannet%-rock%.yaml$")
  end)
  H.ok(shown and #shown > 1, "several hits: " .. vim.inspect(shown))
  H.contains(table.concat(shown, "\n"), "**lamp** **room**", "snippets in the picker")
  vim.cmd("buffer " .. scene)
  H.eq(scene, vim.api.nvim_get_current_buf(), "back in the scene")
end)

H.test(":Showrunner export writes the file and says where", function()
  vim.cmd("Showrunner export md ch01")
  local note = H.wait("the export notification", function()
    return note_matching("wrote .*exports/ch01%.md %(4 scenes")
  end)
  local path = tostring(note.msg):match("wrote (%S+)")
  H.contains(table.concat(vim.fn.readfile(path), "\n"), "# Chapter 1", "the chapter heading")
  -- No arguments: the format picked with vim.ui.select, the whole project exported.
  stub_select(function(items)
    H.eq(H.protocol.root["$defs"].ExportFormat.enum, items, "the formats the protocol names, in its order")
    return "fountain"
  end)
  vim.cmd("Showrunner export")
  H.eq({ "pdf" }, require("showrunner.commands").complete("p", "Showrunner export p", 0), "formats complete")
  H.wait("the project's fountain export", function()
    return note_matching("wrote .*exports/the%-lighthouse%.fountain")
  end)
  vim.cmd("Showrunner export md nowhere")
  H.wait("a readable error", function()
    return note_matching("nothing called `nowhere`")
  end)
end)

H.test(":Showrunner timeline create and switch", function()
  vim.cmd("Showrunner timeline create storm-draft")
  H.wait("the created notification", function()
    return note_matching("timeline storm%-draft created")
  end)
  vim.cmd("Showrunner timeline switch storm-draft")
  H.wait("the switch notification", function()
    return note_matching("on timeline storm%-draft")
  end)
  local list = H.exec(client, "showrunner.timeline.list", vim.empty_dict())
  local current
  for _, t in ipairs(list) do
    if t.current then
      current = t.name
    end
  end
  H.eq("storm-draft", current, "current timeline")
  -- Without arguments: picked with vim.ui.select.
  stub_select(function(items)
    for _, t in ipairs(items) do
      if t.name == "main" then
        return t
      end
    end
  end)
  vim.cmd("Showrunner timeline")
  H.wait("back on main", function()
    return note_matching("on timeline main")
  end)
end)

H.test(":Showrunner new creates a bucket and opens it", function()
  vim.cmd("Showrunner new character Marta Wiśniewska")
  local buf = H.wait("the new bucket's buffer", function()
    local b = vim.api.nvim_get_current_buf()
    return vim.api.nvim_buf_get_name(b):match("%.yaml$") and H.text(b):find("Marta Wiśniewska", 1, true) and b
  end)
  H.contains(H.text(buf), "kind: character")
  H.ok(vim.api.nvim_buf_get_name(buf):find(root .. "/buckets/", 1, true), "under buckets/")
  -- Kind and name asked when not given.
  stub_select(function(items)
    H.ok(vim.tbl_contains(items, "location"), "kinds offered")
    return "location"
  end)
  stub_input("Łeba Harbour")
  vim.cmd("Showrunner new")
  H.wait("the location bucket", function()
    local b = vim.api.nvim_get_current_buf()
    return H.text(b):find("Łeba Harbour", 1, true) and H.text(b):find("kind: location", 1, true)
  end)
  vim.cmd.buffer(scene)
end)

H.test(":Showrunner model sets the model for runs started here", function()
  vim.cmd("Showrunner model local/other")
  H.eq("local/other", require("showrunner.config").options.model, "set")
  H.ok(vim.tbl_contains(vim.fn.getcompletion("Showrunner model ", "cmdline"), "default"), "completion offers default")
  vim.cmd("Showrunner model default")
  H.eq(nil, require("showrunner.config").options.model, "back to the cascade")
end)

H.test(":checkhealth showrunner reports binary, version, project and model servers", function()
  vim.cmd("silent checkhealth showrunner")
  local text = H.text(vim.api.nvim_get_current_buf())
  H.contains(text, "binary: " .. H.bin)
  H.contains(text, "version: showrunner ")
  H.contains(text, "project: " .. root)
  H.contains(text, string.format("provider local (%s) is reachable", model.url))
  H.contains(text, "default model: local/test")
  H.ok(not text:find("ERROR", 1, true), "no errors:\n" .. text)
  vim.cmd("bwipeout")
end)

H.test("health: an unreachable model server is named with the key to change", function()
  local ok, what = require("showrunner.health").probe("http://127.0.0.1:9/v1", 2000)
  H.eq(false, ok, "port 9 does not answer")
  H.contains(what, "cannot connect")
  local good, said = require("showrunner.health").probe(model.url, 2000)
  H.eq(true, good, "the test model server answers")
  H.contains(said, "GET /v1/models answered 200")
end)

H.finish()
