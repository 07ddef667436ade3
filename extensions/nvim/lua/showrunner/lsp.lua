--- The language client: its configuration, how it starts (`vim.lsp.config`/`vim.lsp.enable` on
--- Neovim 0.11+, `vim.lsp.start` from a FileType autocommand on 0.10), and
--- `workspace/executeCommand` calls for the rest of the plugin.
local util = require("showrunner.util")
local config = require("showrunner.config")

local M = {}

M.NAME = "showrunner"

local group = vim.api.nvim_create_augroup("showrunner.lsp", { clear = true })

--- Handlers for what the server sends beyond plain LSP.
local function handlers()
  return {
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
  -- The context lens on line 0 of a scene opens the side window instead of returning JSON
  -- that nobody sees (client-side commands win over the server's in Neovim's lens runner).
  cfg.commands = vim.tbl_extend("force", {
    ["showrunner.context.show"] = function(command, ctx)
      local args = command.arguments and command.arguments[1] or {}
      local bufnr = args.uri and vim.uri_to_bufnr(args.uri) or (ctx and ctx.bufnr)
      require("showrunner.context").open(bufnr)
    end,
  }, cfg.commands or {})
  cfg.on_attach = on_attach
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
