--- The language client: its configuration, how it starts (`vim.lsp.config`/`vim.lsp.enable` on
--- Neovim 0.11+, `vim.lsp.start` from a FileType autocommand on 0.10), how the server's edits
--- land in buffers (`workspace/applyEdit`), and `workspace/executeCommand` calls for the rest of
--- the plugin.
local util = require("showrunner.util")
local config = require("showrunner.config")

local M = {}

M.NAME = "showrunner"

local group = vim.api.nvim_create_augroup("showrunner.lsp", { clear = true })

local function present(v)
  return v ~= nil and v ~= vim.NIL
end

--- The version Neovim has sent (or will send) the server for a buffer: its changedtick.
local function buf_version(bufnr)
  local v = vim.lsp.util.buf_versions[bufnr]
  if v == nil and vim.api.nvim_buf_is_loaded(bufnr) then
    v = vim.api.nvim_buf_get_changedtick(bufnr)
  end
  return v
end

--- `workspace/applyEdit`: an approved edit lands in the buffer, which is left unsaved (the
--- writer saves; the server records the edit in the history on `didSave`). Unlike Neovim's own
--- handler, an edit for a version of the document older than the buffer is refused with a reason
--- (Neovim's prints "newer than edits", skips it and still answers `applied: true`), the edit is
--- an undo step of its own, and nothing is printed but one notification per changed buffer.
function M.apply_edit(_, params, ctx)
  local client = ctx and vim.lsp.get_client_by_id(ctx.client_id)
  local edit = type(params) == "table" and params.edit or nil
  if not client or type(edit) ~= "table" then
    return { applied = false, failureReason = "no workspace edit" }
  end
  local targets = {}
  local function target(uri)
    local bufnr = vim.uri_to_bufnr(uri)
    if not vim.tbl_contains(targets, bufnr) then
      table.insert(targets, bufnr)
    end
    return bufnr
  end
  for _, change in ipairs(present(edit.documentChanges) and edit.documentChanges or {}) do
    local doc = change.textDocument
    if change.kind == nil and type(doc) == "table" and type(doc.uri) == "string" then
      local bufnr = target(doc.uri)
      local version = present(doc.version) and tonumber(doc.version) or nil
      local now = vim.api.nvim_buf_is_loaded(bufnr) and buf_version(bufnr) or nil
      if version and version > 0 and now and now > version then
        return {
          applied = false,
          failureReason = string.format(
            "%s changed in the editor since the edit was made (version %d, now %d)",
            vim.fn.fnamemodify(vim.uri_to_fname(doc.uri), ":t"),
            version,
            now
          ),
        }
      end
    end
  end
  for uri in pairs(present(edit.changes) and edit.changes or {}) do
    target(uri)
  end
  local before = {}
  for _, bufnr in ipairs(targets) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      before[bufnr] = vim.api.nvim_buf_get_changedtick(bufnr)
      -- Close the writer's own change first: `u` undoes the edit, and only the edit.
      vim.api.nvim_buf_call(bufnr, function()
        vim.cmd("let &l:undolevels = &l:undolevels")
      end)
    end
  end
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, edit, client.offset_encoding)
  if not ok then
    return { applied = false, failureReason = tostring(err) }
  end
  for _, bufnr in ipairs(targets) do
    if vim.api.nvim_buf_is_valid(bufnr) and before[bufnr] ~= vim.api.nvim_buf_get_changedtick(bufnr) then
      local path = util.buf_path(bufnr)
      local root = util.project_root(path)
      local name = root and path:sub(#root + 2) or vim.fn.fnamemodify(path, ":t")
      if vim.bo[bufnr].modified then
        util.notify(string.format("%s changed %s (not saved: u undoes it, :write records it in the history)", present(params.label) and params.label:gsub("^Showrunner: ", "") or "an edit", name))
      end
    end
  end
  return { applied = true }
end

--- Handlers for what the server sends beyond plain LSP.
local function handlers()
  return {
    ["workspace/applyEdit"] = function(err, params, ctx)
      return M.apply_edit(err, params, ctx)
    end,
    ["showrunner/runProgress"] = function(err, params, ctx)
      require("showrunner.runs").on_progress(err, params, ctx)
    end,
    ["window/showDocument"] = function(err, params, ctx, cfg)
      return require("showrunner.review").show_document(err, params, ctx, cfg)
    end,
  }
end

local function on_attach(client, bufnr)
  require("showrunner.context").on_attach(client, bufnr)
  local user = config.options.lsp.on_attach
  if type(user) == "function" then
    user(client, bufnr)
  end
end

--- The client configuration (without `root_dir`, which depends on the buffer).
function M.client_config()
  local opts = config.options
  local cfg = vim.tbl_deep_extend("force", {}, opts.lsp or {})
  cfg.name = M.NAME
  cfg.cmd = opts.cmd
  cfg.filetypes = opts.filetypes
  cfg.handlers = vim.tbl_extend("force", handlers(), cfg.handlers or {})
  -- Edits from the server name the document's version (documentChanges), so one made for text
  -- the writer has changed since is refused instead of landing in the wrong place. Neovim
  -- applies documentChanges but does not declare them (0.11).
  cfg.capabilities = vim.tbl_deep_extend("force", cfg.capabilities or {}, {
    workspace = { applyEdit = true, workspaceEdit = { documentChanges = true } },
  })
  -- Gates are answered in the review float (showrunner/runProgress), not by message prompts.
  cfg.init_options = vim.tbl_extend("force", { reviewUi = true }, cfg.init_options or {})
  -- The context lens on line 0 of a scene opens the side window instead of returning JSON
  -- that nobody sees (client-side commands win over the server's in Neovim's lens runner).
  cfg.commands = vim.tbl_extend("force", {
    ["showrunner.context.show"] = function(command, ctx)
      local args = command.arguments and command.arguments[1] or {}
      local bufnr = args.uri and vim.uri_to_bufnr(args.uri) or (ctx and ctx.bufnr)
      require("showrunner.context").open(bufnr)
    end,
    -- Quick actions (code actions) and the scene lenses start runs: started as `:Showrunner`
    -- starts them (the editor's model, the run recorded with its scene buffer).
    ["showrunner.pipeline.run"] = function(command, ctx)
      local args = command.arguments and command.arguments[1] or {}
      local bufnr = type(args.uri) == "string" and vim.uri_to_bufnr(args.uri) or (ctx and ctx.bufnr)
      require("showrunner.commands").run_pipeline(args.pipeline, { bufnr = bufnr, args = args })
    end,
  }, cfg.commands or {})
  cfg.on_attach = on_attach
  local user_exit = cfg.on_exit
  cfg.on_exit = function(code, signal, client_id)
    -- Runs this server drove stop with it: the next server asks before going on with them.
    vim.schedule(function()
      require("showrunner.runs").on_exit(client_id)
    end)
    if type(user_exit) == "function" then
      user_exit(code, signal, client_id)
    end
  end
  return cfg
end

--- 0.11 `root_dir` function: attach only to files the server serves, inside a project.
local function root_dir(bufnr, on_dir)
  local root = util.served_root(bufnr)
  if root then
    on_dir(root)
  end
end

--- 0.10 path: start (or reuse) the client for one buffer.
function M.start(bufnr)
  local root = util.served_root(bufnr)
  if not root then
    return nil
  end
  local cfg = M.client_config()
  cfg.root_dir = root
  cfg.workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } }
  return vim.lsp.start(cfg, { bufnr = bufnr })
end

--- Configures and enables the client.
function M.setup()
  vim.api.nvim_clear_autocmds({ group = group })
  local opts = config.options
  if util.has_011 and vim.lsp.config and vim.lsp.enable and not opts.legacy_start then
    local cfg = M.client_config()
    cfg.root_dir = root_dir
    vim.lsp.config(M.NAME, cfg)
    vim.lsp.enable(M.NAME)
    -- `vim.lsp.enable` runs FileType again only for buffers loaded after VimEnter; cover the
    -- ones already open when setup runs during startup or in a script (`nvim -l`).
    if vim.v.vim_did_enter ~= 1 then
      for _, buf in ipairs(vim.api.nvim_list_bufs()) do
        if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(opts.filetypes, vim.bo[buf].filetype) then
          vim.api.nvim_exec_autocmds("FileType", { group = "nvim.lsp.enable", buffer = buf })
        end
      end
    end
    return
  end
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = opts.filetypes,
    callback = function(args)
      M.start(args.buf)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(opts.filetypes, vim.bo[buf].filetype) then
      M.start(buf)
    end
  end
end

--- Every running Showrunner client.
function M.clients(filter)
  filter = vim.tbl_extend("force", { name = M.NAME }, filter or {})
  return vim.lsp.get_clients(filter)
end

--- The client for a buffer: the one attached to it, else the one of its project, else any.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local attached = M.clients({ bufnr = bufnr })
  if attached[1] then
    return attached[1]
  end
  local root = util.project_root(bufnr)
  local all = M.clients()
  for _, c in ipairs(all) do
    if root and c.root_dir and vim.fs.normalize(c.root_dir) == root then
      return c
    end
  end
  return all[1]
end

--- The client with an id.
function M.by_id(id)
  local c = vim.lsp.get_client_by_id(id)
  if c and c.name == M.NAME then
    return c
  end
  return nil
end

--- Runs a workspace command. `callback(err, result, client)`; `err` is a string.
---@param command string
---@param args table
---@param callback? fun(err: string?, result: any, client: vim.lsp.Client?)
---@param opts? { bufnr?: integer, client?: vim.lsp.Client }
function M.exec(command, args, callback, opts)
  opts = opts or {}
  callback = callback or function(err)
    if err then
      util.error(err)
    end
  end
  local client = opts.client or M.client(opts.bufnr)
  if not client then
    callback("no Showrunner language server is running (open a scene inside a project)", nil, nil)
    return
  end
  local params = { command = command, arguments = { vim.empty_dict() } }
  if args and next(args) ~= nil then
    params.arguments = { args }
  end
  local bufnr = opts.bufnr
  if bufnr and not vim.lsp.buf_is_attached(bufnr, client.id) then
    bufnr = nil
  end
  util.request(client, "workspace/executeCommand", params, function(err, result)
    if err then
      callback(string.format("%s: %s", command, err.message or vim.inspect(err)), nil, client)
    else
      callback(nil, result, client)
    end
  end, bufnr)
end

--- The same, waiting for the answer (for completion lists): result or nil, error.
function M.exec_sync(command, args, timeout_ms, opts)
  opts = opts or {}
  local client = opts.client or M.client(opts.bufnr)
  if not client then
    return nil, "no Showrunner language server is running"
  end
  local params = { command = command, arguments = { (args and next(args)) and args or vim.empty_dict() } }
  local resp, err = util.request_sync(client, "workspace/executeCommand", params, timeout_ms or 1000, nil)
  if not resp then
    return nil, err or "no answer"
  end
  if resp.err then
    return nil, resp.err.message
  end
  return resp.result, nil
end

return M
