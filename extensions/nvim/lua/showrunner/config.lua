--- The plugin's options: defaults, merged with what `setup{}` is given.
local M = {}

M.defaults = {
  --- How to start the server: a list (`{ "showrunner", "lsp" }`) or the binary's path alone.
  cmd = { "showrunner", "lsp" },
  --- The model (`provider/model`) for runs started from this editor; nil: the project's cascade.
  model = nil,
  --- Filetypes the client attaches to (inside a project only, and only to files the server
  --- serves: scenes, Fountain screenplays, bucket YAML, `showrunner.yaml`, review documents).
  filetypes = { "markdown", "fountain", "yaml" },
  --- Keys in the review window (normal mode, buffer-local). `false` leaves a key unmapped.
  keys = {
    approve = "ga",
    skip = "gs",
    model = "gm",
    paste = "gp",
    chat = "gc",
    regenerate = "gr",
    reject = "gx",
    diff = "gd",
    cancel = "<C-c>",
    close = "q",
  },
  review = {
    --- Open the review window for streamed output of runs (not only at gates).
    stream = true,
    --- Size of the floating window, as fractions of the editor.
    width = 0.8,
    height = 0.7,
    border = "rounded",
  },
  context = {
    --- Width of the context side window, in columns.
    width = 48,
    --- Show each item's text below its heading.
    show_text = true,
  },
  --- Default links of the semantic-token highlight groups (set only where not already defined).
  highlights = true,
  --- Extra fields merged into the client configuration (on_attach, capabilities, settings, …).
  lsp = {},
  --- Use `vim.lsp.start` from a FileType autocommand even on Neovim 0.11+ (the 0.10 way).
  legacy_start = false,
}

M.options = vim.deepcopy(M.defaults)

--- Merges user options over the defaults.
function M.set(opts)
  opts = opts or {}
  if type(opts.cmd) == "string" then
    opts.cmd = { opts.cmd, "lsp" }
  end
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- A list given by the user replaces the default list instead of merging index by index.
  if opts.cmd then
    M.options.cmd = opts.cmd
  end
  if opts.filetypes then
    M.options.filetypes = opts.filetypes
  end
  return M.options
end

return M
