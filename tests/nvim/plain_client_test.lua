-- Plain Neovim 0.11, without the plugin: `vim.lsp.start` with `showrunner lsp`, as a writer who
-- only read the README would have it. A rewrite is started from the code action on a selection;
-- both gates are answered where Neovim shows `window/showMessageRequest` (vim.ui.select, stubbed
-- here to pick "Approve"); the approved text arrives as `workspace/applyEdit`, and the run's end
-- as `window/showMessage` (vim.notify).
--
-- Loads base.lua alone, not helpers.lua: that puts the plugin on the runtimepath. The schema
-- checks in base.lua watch this client's protocol messages too.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/base.lua")
local bin = H.bin

-- The questions asked (window/showMessageRequest lands in vim.ui.select); notifications are in
-- H.notes (base.lua keeps vim.notify's).
local questions = {}
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
  table.insert(H.notes, { msg = params.message, level = params.type, shown = true })
  return show_message(err, params, ctx, config)
end

local SENTENCE = "The boat stood off, rose, fell, stood off again."
local REWRITTEN = "Łódź stała z dala — wznosiła się, opadała; «czekała»."

H.test("plain Neovim approves a rewrite at both gates through showMessageRequest", function()
  H.eq(1, vim.fn.has("nvim-0.11"), "Neovim 0.11")
  local url = H.model_server({ { text = REWRITTEN } }).url
  local parent = vim.fn.tempname()
  vim.fn.mkdir(parent, "p")
  local init = vim.system({ bin, "init", "story", "--example" }, { cwd = parent }):wait()
  H.eq(0, init.code, "showrunner init: " .. (init.stderr or ""))
  local root = parent .. "/story"
  local cfg = H.read(root .. "/showrunner.yaml")
  H.write(root .. "/showrunner.yaml", (cfg:gsub("http://127%.0%.0%.1:11434/v1", url)))
  local scene_path = root .. "/story/ch01/01-arrival.md"
  local original = H.read(scene_path)
  H.eq(false, vim.o.runtimepath:find("extensions/nvim", 1, true) ~= nil, "the plugin is not loaded")

  vim.cmd.edit(vim.fn.fnameescape(scene_path))
  local scene = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start({ name = "showrunner", cmd = { bin, "lsp" }, root_dir = root })
  local client = H.wait("the client", function()
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
  H.wait("the approved rewrite in the scene buffer", function()
    applied = table.concat(vim.api.nvim_buf_get_lines(scene, 0, -1, false), "\n"):find(REWRITTEN, 1, true) ~= nil
    return applied
  end)
  H.eq(2, #questions, "two gates asked")
  H.eq({ "Approve", "Edit", "Skip", "Reject", "Open review file" }, questions[1].titles, "the decisions offered")
  assert(questions[1].prompt:find("Review the prompt", 1, true), questions[1].prompt)
  assert(questions[2].prompt:find("Approve the output", 1, true), questions[2].prompt)
  assert(questions[2].prompt:find("/.showrunner/runs/", 1, true), "names the review file: " .. questions[2].prompt)
  local finished = H.wait("the run's end as a message", function()
    for _, n in ipairs(H.notes) do
      if n.shown and n.msg:find("rewrite-selection finished", 1, true) then
        return n
      end
    end
  end)
  H.eq(vim.lsp.protocol.MessageType.Info, finished.level, "a success is information")
  -- The writer saves: the file holds the rewrite, nothing else changed.
  vim.api.nvim_buf_call(scene, function()
    vim.cmd("silent write")
  end)
  H.eq((original:gsub(vim.pesc(SENTENCE), REWRITTEN)), H.read(scene_path), "the saved scene")
  client:stop()
end)

H.finish()
