--- The context of the current scene in a side window: what the AI would be given for it
--- (`showrunner.context.show`), each item with its reason and token count, and what was dropped.
--- It follows the scene in the current window and is refreshed when a project file is saved.
local util = require("showrunner.util")
local config = require("showrunner.config")
local lsp = require("showrunner.lsp")

local M = {}

--- { buf, win, scene (bufnr of the scene shown), data (last result), pending }
M.state = {}

local group = vim.api.nvim_create_augroup("showrunner.context", { clear = true })
local ns = vim.api.nvim_create_namespace("showrunner.context")

local function valid_win()
  return M.state.win and vim.api.nvim_win_is_valid(M.state.win)
end

function M.is_open()
  return valid_win()
end

--- The lines of the side window for a `context.show` result.
function M.render(data, scene_name)
  local lines, marks = {}, {}
  local function add(text, hl)
    table.insert(lines, text)
    if hl then
      table.insert(marks, { #lines - 1, hl })
    end
  end
  add("Context · " .. (scene_name or "scene"), "Title")
  add(string.format("%s / %s tokens", util.digits(data.used_tokens or 0), util.digits(data.budget or 0)), "Comment")
  add("")
  for _, item in ipairs(data.items or {}) do
    add(string.format("● %s (%s) · %s · %s tokens", item.bucket, item.kind or "?", item.reason or "", util.digits(item.tokens or 0)), "Identifier")
    if config.options.context.show_text and type(item.text) == "string" and item.text ~= "" then
      for _, l in ipairs(vim.split(item.text, "\n", { plain = true, trimempty = true })) do
        add("  " .. l)
      end
    end
  end
  if data.dropped and #data.dropped > 0 then
    add("")
    add("Dropped", "Title")
    for _, d in ipairs(data.dropped) do
      add(string.format("✗ %s · %s", d.bucket, d.reason or ""), "Comment")
    end
  end
  return lines, marks
end

local function draw(data)
  local st = M.state
  if not (st.buf and vim.api.nvim_buf_is_valid(st.buf)) then
    return
  end
  local name = st.scene and vim.api.nvim_buf_is_valid(st.scene) and vim.fn.fnamemodify(vim.api.nvim_buf_get_name(st.scene), ":t") or nil
  local lines, marks = M.render(data, name)
  vim.bo[st.buf].modifiable = true
  vim.api.nvim_buf_set_lines(st.buf, 0, -1, false, lines)
  vim.bo[st.buf].modifiable = false
  vim.api.nvim_buf_clear_namespace(st.buf, ns, 0, -1)
  for _, m in ipairs(marks) do
    pcall(vim.api.nvim_buf_set_extmark, st.buf, ns, m[1], 0, { line_hl_group = m[2] })
  end
end

--- Asks the server for the context of the scene shown and redraws the window.
function M.refresh()
  local st = M.state
  if not valid_win() or not (st.scene and vim.api.nvim_buf_is_valid(st.scene)) then
    return
  end
  local scene = st.scene
  st.pending = (st.pending or 0) + 1
  local ticket = st.pending
  local args = { uri = vim.uri_from_bufnr(scene) }
  -- The cursor of the scene's window, when it is shown, ranks what is near it.
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_buf(w) == scene then
      local c = vim.api.nvim_win_get_cursor(w)
      local client = lsp.client(scene)
      if client then
        args.position = util.position(scene, c[1] - 1, c[2], client.offset_encoding or "utf-16")
      end
      break
    end
  end
  lsp.exec("showrunner.context.show", args, function(err, data)
    if ticket ~= st.pending then
      return -- a newer refresh is on its way
    end
    if err then
      draw({ items = {}, dropped = {}, used_tokens = 0, budget = 0 })
      vim.bo[st.buf].modifiable = true
      vim.api.nvim_buf_set_lines(st.buf, 0, -1, false, { "Context unavailable:", err })
      vim.bo[st.buf].modifiable = false
      return
    end
    st.data = data
    st.refreshed = (st.refreshed or 0) + 1
    draw(data)
  end, { bufnr = scene })
end

--- Opens the side window for a scene buffer (default: the current one).
function M.open(scene)
  scene = scene or vim.api.nvim_get_current_buf()
  local root, kind = util.served_root(scene)
  if kind ~= "scene" then
    util.warn("the context is shown for scenes; this buffer is not one")
    return
  end
  local st = M.state
  st.scene = scene
  st.root = root
  if not (st.buf and vim.api.nvim_buf_is_valid(st.buf)) then
    st.buf = vim.api.nvim_create_buf(false, true)
    vim.bo[st.buf].bufhidden = "hide"
    vim.bo[st.buf].filetype = "showrunner-context"
    vim.bo[st.buf].modifiable = false
    pcall(vim.api.nvim_buf_set_name, st.buf, "showrunner://context")
    vim.keymap.set("n", "q", M.close, { buffer = st.buf, desc = "Close the Showrunner context" })
    vim.keymap.set("n", "R", M.refresh, { buffer = st.buf, desc = "Refresh the Showrunner context" })
  end
  if not valid_win() then
    local from = vim.api.nvim_get_current_win()
    vim.cmd("botright vsplit")
    st.win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(st.win, st.buf)
    vim.api.nvim_win_set_width(st.win, config.options.context.width)
    vim.wo[st.win].wrap = true
    vim.wo[st.win].linebreak = true
    vim.wo[st.win].number = false
    vim.wo[st.win].relativenumber = false
    vim.wo[st.win].winfixwidth = true
    vim.api.nvim_set_current_win(from)
  end
  vim.api.nvim_clear_autocmds({ group = group })
  vim.api.nvim_create_autocmd("BufWritePost", {
    group = group,
    callback = function(args)
      -- Any saved file of the project may change the context: scenes, buckets, the config.
      if M.state.root and util.project_root(args.buf) == M.state.root then
        M.refresh()
      end
    end,
  })
  vim.api.nvim_create_autocmd("BufEnter", {
    group = group,
    callback = function(args)
      if args.buf ~= M.state.scene and args.buf ~= M.state.buf then
        local r, k = util.served_root(args.buf)
        if k == "scene" then
          M.state.scene = args.buf
          M.state.root = r
          M.refresh()
        end
      end
    end,
  })
  M.refresh()
end

function M.close()
  local st = M.state
  if valid_win() then
    pcall(vim.api.nvim_win_close, st.win, true)
  end
  st.win = nil
  vim.api.nvim_clear_autocmds({ group = group })
end

function M.toggle()
  if valid_win() then
    M.close()
  else
    M.open()
  end
end

--- Called when the client attaches to a buffer: a scene attached while the window shows
--- nothing yet (the server was starting) gets its context now.
function M.on_attach(_, bufnr)
  if valid_win() and M.state.scene == bufnr then
    M.refresh()
  end
end

return M
