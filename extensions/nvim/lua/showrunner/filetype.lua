--- Fountain screenplays (`*.fountain`, `*.spmd`) get the filetype `fountain`. Called from
--- plugin/showrunner.lua (so detection works before `setup()`) and again from `setup()`.
local M = {}

function M.setup()
  vim.filetype.add({
    extension = {
      fountain = "fountain",
      spmd = "fountain",
    },
  })
end

return M
