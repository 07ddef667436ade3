--- Words and goals for statuslines: the `goals` part of `showrunner.stats` (asked with
--- `only = "goals"`), fetched when a project buffer is entered or saved and cached per project,
--- so that |showrunner.statusline()| never waits for the server. Today's and the session's words
--- are counted by the server from the saved history (see `goals:` in the README).
local util = require("showrunner.util")
local lsp = require("showrunner.lsp")

local M = {}

--- Project root → the last `goals` answer.
M.cache = {}
--- Project roots with a request under way (one at a time per project), and those asked for
--- again meanwhile (asked once more when the answer comes: the answer may predate a change).
local pending, again = {}, {}

--- "7,342 words · today 5/1,000 · session 5/500": the parts a goal exists for.
function M.format(g)
  if type(g) ~= "table" or not g.words then
    return ""
  end
  local function of(done, goal)
    local d = tonumber(done) or 0
    local s = d < 0 and ("-" .. util.digits(-d)) or util.digits(d)
    if goal ~= nil and goal ~= vim.NIL then
      s = s .. "/" .. util.digits(goal)
    end
    return s
  end
  local parts = { util.digits(g.words) .. " words", "today " .. of(g.today, g.daily_goal) }
  if g.session_goal ~= nil and g.session_goal ~= vim.NIL then
    table.insert(parts, "session " .. of(g.session, g.session_goal))
  end
  return table.concat(parts, " · ")
end

--- The cached words of the buffer's project ("" until the server has answered).
function M.status(bufnr)
  local root = util.served_root(bufnr or vim.api.nvim_get_current_buf())
  return root and M.format(M.cache[root]) or ""
end

--- Asks the server for the goals of the buffer's project; `callback(err, goals)` when answered.
function M.refresh(bufnr, callback)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local root = util.served_root(bufnr)
  if not root or not lsp.client(bufnr) then
    if callback then
      callback("no Showrunner language server is running (open a scene inside a project)")
    end
    return
  end
  if pending[root] and not callback then
    again[root] = bufnr
    return
  end
  pending[root] = true
  lsp.exec("showrunner.stats", { uri = vim.uri_from_bufnr(bufnr), only = "goals" }, function(err, res)
    pending[root] = nil
    local next_buf = again[root]
    again[root] = nil
    if next_buf and vim.api.nvim_buf_is_valid(next_buf) then
      vim.schedule(function()
        M.refresh(next_buf)
      end)
    end
    if not err and type(res) == "table" and type(res.goals) == "table" then
      M.cache[root] = res.goals
      vim.schedule(function()
        pcall(vim.cmd.redrawstatus)
      end)
    end
    if callback then
      callback(err, res and res.goals)
    end
  end, { bufnr = bufnr })
end

--- Refreshes the buffer's numbers on the next turn of the event loop, if it still exists.
local function refresh_soon(buf)
  vim.schedule(function()
    if vim.api.nvim_buf_is_valid(buf) then
      M.refresh(buf)
    end
  end)
end

function M.setup()
  local group = vim.api.nvim_create_augroup("showrunner.words", { clear = true })
  vim.api.nvim_create_autocmd({ "BufEnter", "BufWritePost" }, {
    group = group,
    callback = function(args)
      if util.served_root(args.buf) and lsp.client(args.buf) then
        -- After the editor's own save handlers (the server records the save first).
        refresh_soon(args.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data and args.data.client_id or -1)
      if client and client.name == "showrunner" then
        refresh_soon(args.buf)
      end
    end,
  })
  -- Numbers from a server that is gone are not shown.
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(args)
      local root = util.served_root(args.buf)
      if root then
        M.cache[root] = nil
      end
    end,
  })
end

return M
