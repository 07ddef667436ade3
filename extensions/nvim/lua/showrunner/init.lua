--- Showrunner for Neovim: the language client for story projects (scenes, Fountain screenplays,
--- bucket YAML), `:Showrunner` commands for the AI pipelines, review of every gate in a floating
--- window, the scene's context in a side window, entity colours and `:checkhealth showrunner`.
---
--- ```lua
--- require("showrunner").setup({
---   cmd = { "showrunner", "lsp" },   -- or the binary's path
---   model = "local/llama3.1",        -- runs started from Neovim use it (default: the cascade)
---   keys = { approve = "ga", reject = "gx" },
--- })
--- ```
local M = {}

--- Configures the plugin and starts the client for project files. Safe to call again.
---@param opts? table see |showrunner-setup|
function M.setup(opts)
  if vim.fn.has("nvim-0.10") ~= 1 then
    vim.notify("Showrunner needs Neovim 0.10 or newer", vim.log.levels.ERROR)
    return
  end
  local config = require("showrunner.config")
  config.set(opts)
  require("showrunner.filetype").setup()
  if config.options.highlights then
    require("showrunner.highlight").setup()
  end
  require("showrunner.commands").setup()
  require("showrunner.words").setup()
  -- Progress of runs and indexing arrives as `$/progress`: Neovim turns it into LspProgress
  -- events (fidget.nvim and `vim.lsp.status()` read those); keep statuslines current.
  vim.api.nvim_create_autocmd("LspProgress", {
    group = vim.api.nvim_create_augroup("showrunner.progress", { clear = true }),
    callback = function(args)
      local client = args.data and args.data.client_id and vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == "showrunner" then
        vim.cmd.redrawstatus()
      end
    end,
  })
  require("showrunner.lsp").setup()
  vim.g.showrunner_setup = true
end

--- Runs a `:Showrunner` subcommand from Lua: `require("showrunner").command("rewrite")`.
function M.command(name, ...)
  local fargs = { name, ... }
  require("showrunner.commands").dispatch({ fargs = fargs, range = 0, line1 = 0, line2 = 0 })
end

--- A statusline component: the active run (and how many more), then the project's words and
--- the goals ("7,342 words · today 5/1,000"); "" when there is neither. Cached: it never waits
--- for the server (the words are refreshed when a project buffer is entered or saved).
function M.statusline()
  local parts = {}
  for _, part in ipairs({ require("showrunner.runs").status(), require("showrunner.words").status() }) do
    if part ~= "" then
      table.insert(parts, part)
    end
  end
  return table.concat(parts, " · ")
end

return M
