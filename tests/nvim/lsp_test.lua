-- The language features through Neovim's own client, started by the plugin: which files get a
-- client, diagnostics, hover, go to definition, entity colours (semantic tokens), code lens,
-- and renaming a character across the project.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/helpers.lua")

local root = H.project()
-- lsp_legacy_test.lua runs this file again with `legacy_start`: the 0.10 way (`vim.lsp.start`
-- from a FileType autocommand), which is the only way on Neovim 0.10.
local legacy = _G.SHOWRUNNER_TEST_LEGACY == true
H.setup({ legacy_start = legacy })

local scene, client

H.test("a scene inside a project gets the client, rooted at the project", function()
  scene, client = H.open(root .. "/story/ch01/02-the-hut.md")
  H.eq("markdown", vim.bo[scene].filetype, "filetype")
  H.eq(root, vim.fs.normalize(client.root_dir), "root_dir")
  H.eq("showrunner", client.server_info and client.server_info.name, "server name")
  if vim.lsp.is_enabled then
    H.eq(not legacy, vim.lsp.is_enabled("showrunner"), "vim.lsp.enable used (0.11 way)")
  end
end)

H.test("the server's diagnostics arrive: SR001 entity links with Unicode names", function()
  local diag = H.wait("an SR001 hint on Zoë", function()
    for _, d in ipairs(vim.diagnostic.get(scene)) do
      if d.code == "SR001" and d.message:find("Zoë Carrow", 1, true) then
        return d
      end
    end
  end)
  H.eq(vim.diagnostic.severity.HINT, diag.severity, "severity")
  H.eq("showrunner", diag.source, "source")
  -- The range covers exactly "Zoë" (byte columns in Neovim, whatever the encoding on the wire).
  local line = vim.api.nvim_buf_get_lines(scene, diag.lnum, diag.lnum + 1, false)[1]
  H.eq("Zoë", line:sub(diag.col + 1, diag.end_col), "diagnostic range text")
end)

H.test("a bucket file gets the same client; files outside the story do not", function()
  local bucket, c = H.open(root .. "/buckets/characters/zoe.yaml")
  H.eq(client.id, c.id, "same client for the bucket")
  vim.cmd.edit(vim.fn.fnameescape(root .. "/README.md"))
  local readme = vim.api.nvim_get_current_buf()
  local outside = vim.fn.tempname() .. "-notes.md"
  H.write(outside, "Alice and Zoë, outside any project.\n")
  vim.cmd.edit(vim.fn.fnameescape(outside))
  local other = vim.api.nvim_get_current_buf()
  -- Let the loop run so that a wrongly started client would have attached by now.
  H.wait("the bucket's diagnostics pass", function()
    return vim.lsp.buf_is_attached(bucket, client.id)
  end)
  -- Starting a client is scheduled from the FileType autocommand: once a callback scheduled
  -- after both `:edit`s has run, any client that was going to attach has.
  local settled = false
  vim.schedule(function()
    settled = true
  end)
  H.wait("the scheduled starts to run", function()
    return settled
  end)
  H.eq(0, #vim.lsp.get_clients({ bufnr = readme }), "README.md has no client")
  H.eq(0, #vim.lsp.get_clients({ bufnr = other }), "a file outside a project has no client")
  H.eq(1, #vim.lsp.get_clients({ name = "showrunner" }), "one client for the project")
  vim.cmd.buffer(scene)
end)

H.test("hover on a mention shows the bucket", function()
  local row, col = H.find(scene, "Zoë sent the way")
  vim.api.nvim_win_set_cursor(0, { row + 1, col + 1 })
  vim.lsp.buf.hover()
  local text = H.wait("the hover window", function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        local t = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false), "\n")
        if t:find("Zoë Carrow", 1, true) then
          return t
        end
      end
    end
  end)
  H.contains(text, "character", "hover names the kind")
  H.contains(text, "Telegraphist", "hover shows the summary")
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= "" then
      vim.api.nvim_win_close(w, true)
    end
  end
end)

H.test("entity colours: semantic tokens typed by kind, linked highlight groups", function()
  local row, col = H.find(scene, "Zoë sent the way")
  local tok = H.wait("a semantic token on Zoë", function()
    for _, t in ipairs(vim.lsp.semantic_tokens.get_at_pos(scene, row, col + 1) or {}) do
      if t.type == "character" then
        return t
      end
    end
  end)
  H.eq(col, tok.start_col, "token starts at Zoë")
  H.eq(col + #"Zoë", tok.end_col, "token ends after Zoë")
  H.eq("Identifier", vim.api.nvim_get_hl(0, { name = "@lsp.type.character" }).link, "character colour")
  H.eq("Type", vim.api.nvim_get_hl(0, { name = "@lsp.type.location" }).link, "location colour")
  -- The place in the same paragraph is a location.
  local prow, pcol = H.find(scene, "Port Ainsley was sending")
  local place = H.wait("a location token", function()
    for _, t in ipairs(vim.lsp.semantic_tokens.get_at_pos(scene, prow, pcol + 1) or {}) do
      if t.type == "location" then
        return t
      end
    end
  end)
  H.ok(place, "Port Ainsley is a location")
end)

H.test("typing: the colours follow, through semantic token deltas", function()
  local asked = {}
  local au = vim.api.nvim_create_autocmd("LspRequest", {
    callback = function(args)
      local r = args.data and args.data.request
      if r and r.type == "pending" then
        asked[r.method] = true
      end
    end,
  })
  local row, col = H.find(scene, "Zoë sent the way")
  vim.api.nvim_buf_set_text(scene, row, 0, row, 0, { "x" })
  local tok = H.wait("the token on Zoë, one column on", function()
    for _, t in ipairs(vim.lsp.semantic_tokens.get_at_pos(scene, row, col + 2) or {}) do
      if t.type == "character" and t.start_col == col + 1 then
        return t
      end
    end
  end)
  vim.api.nvim_del_autocmd(au)
  H.eq(col + 1 + #"Zoë", tok.end_col, "token ends after Zoë")
  H.ok(asked["textDocument/semanticTokens/full/delta"], "the new tokens came as a delta")
  vim.api.nvim_buf_set_text(scene, row, 0, row, 1, { "" })
  vim.bo[scene].modified = false
  H.wait("the token back on Zoë", function()
    for _, t in ipairs(vim.lsp.semantic_tokens.get_at_pos(scene, row, col + 1) or {}) do
      if t.type == "character" and t.start_col == col then
        return t
      end
    end
  end)
end)

H.test("code lens on line 0: the context the scene will get", function()
  vim.lsp.codelens.refresh({ bufnr = scene })
  local lens = H.wait("the context lens", function()
    for _, l in ipairs(vim.lsp.codelens.get(scene)) do
      if l.command and l.command.title:find("^Context:") then
        return l
      end
    end
  end)
  H.eq(0, lens.range.start.line, "lens line")
  H.contains(lens.command.title, "tokens", "lens title")
  -- Running it opens the context side window for the scene. Line 0 also has the run lenses
  -- (Draft, Continue, …): Neovim asks which one with vim.ui.select.
  vim.ui.select = function(items, opts, on_choice)
    for i, item in ipairs(items) do
      local label = opts.format_item and opts.format_item(item) or tostring(item)
      if label:find("Context:", 1, true) then
        return on_choice(item, i)
      end
    end
    on_choice(nil)
  end
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.lsp.codelens.run()
  local ctx = require("showrunner.context")
  H.wait("the context window from the lens", function()
    return ctx.is_open() and ctx.state.data and ctx.state.scene == scene
  end)
  ctx.close()
end)

H.test("go to definition jumps to the bucket's name line", function()
  local row, col = H.find(scene, "Zoë sent the way")
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  vim.lsp.buf.definition()
  H.wait("the zoe.yaml buffer", function()
    return vim.api.nvim_buf_get_name(0):match("buckets/characters/zoe%.yaml$")
  end)
  local cur = vim.api.nvim_win_get_cursor(0)
  local line = vim.api.nvim_buf_get_lines(0, cur[1] - 1, cur[1], false)[1]
  H.ok(line:match("^name:"), "cursor on the name line, got: " .. line)
  vim.cmd.buffer(scene)
end)

H.test("a Fountain screenplay: the client, and character cues coloured as characters", function()
  local play, c = H.open(root .. "/story/episode-01.fountain")
  H.eq(client.id, c.id, "same client")
  H.eq("fountain", vim.bo[play].filetype, "filetype")
  H.eq("fountain", vim.b[play].current_syntax, "Fountain syntax")
  local row = 0
  for i, line in ipairs(vim.api.nvim_buf_get_lines(play, 0, -1, false)) do
    if line == "ŁUKASZ" then
      row = i - 1
      break
    end
  end
  H.ok(row > 0, "the cue line")
  local tok = H.wait("a cue token on ŁUKASZ", function()
    for _, t in ipairs(vim.lsp.semantic_tokens.get_at_pos(play, row, 1) or {}) do
      if t.type == "character" and t.modifiers and t.modifiers.cue then
        return t
      end
    end
  end)
  H.eq(#"ŁUKASZ", tok.end_col - tok.start_col, "the whole cue")
  vim.cmd.buffer(scene)
end)

H.test("rename a character: the bucket and every scene, in one edit", function()
  local arrival = H.open(root .. "/story/ch01/01-arrival.md")
  local row, col = H.find(arrival, "Łukasz Nowak. Inspector")
  vim.api.nvim_win_set_cursor(0, { row + 1, col + 2 })
  local before = select(2, H.text(arrival):gsub("Łukasz Nowak", ""))
  H.ok(before >= 1, "the full name is in the scene")
  vim.lsp.buf.rename("Łukasz Nowakowski")
  H.wait("the renamed mention in the scene", function()
    return H.text(arrival):find("Nowak. Łukasz Nowakowski. Inspector", 1, true)
  end)
  -- The bucket's name changed too (Neovim loads the file into a buffer and edits it there).
  local bucket = vim.fn.bufadd(root .. "/buckets/characters/lukasz.yaml")
  vim.fn.bufload(bucket)
  H.wait("the bucket renamed", function()
    return H.text(bucket):find("name: Łukasz Nowakowski", 1, true)
  end)
  -- Aliases that were not renamed stay (only the matched name changes).
  H.contains(H.text(bucket), '"Mr Nowak"', "other aliases stay")
  local after = select(2, H.text(arrival):gsub("Łukasz Nowakowski", ""))
  H.eq(before, after, "every full-name mention in the scene renamed")
end)

H.finish()
