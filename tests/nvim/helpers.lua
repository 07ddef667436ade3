-- Shared helpers for the Neovim end-to-end tests (run as `nvim --headless -l tests/nvim/X.lua`).
--
-- Each test file builds its own project (a copy of the example story, `showrunner init --example`)
-- in a temporary folder, starts the real `showrunner lsp` through the plugin, and checks what a
-- writer would see. base.lua holds everything that does not need the plugin.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/base.lua")

-- Neovim as a writer would have it: filetypes, syntax, the plugin on the runtimepath.
vim.opt.runtimepath:prepend(H.plugin)
vim.cmd("filetype plugin on")
vim.cmd("syntax on")
vim.cmd("runtime plugin/showrunner.lua")

--- `require("showrunner").setup` with the test binary.
function H.setup(opts)
  opts = vim.tbl_deep_extend("force", { cmd = { H.bin, "lsp" } }, opts or {})
  require("showrunner").setup(opts)
end

return H
