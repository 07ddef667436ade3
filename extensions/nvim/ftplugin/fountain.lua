-- Fountain screenplays: prose-friendly defaults, notes as comments.
if vim.b.did_ftplugin then
  return
end
vim.b.did_ftplugin = true
vim.bo.commentstring = "[[ %s ]]"
vim.bo.comments = ""
vim.opt_local.wrap = true
vim.opt_local.linebreak = true
vim.opt_local.spell = vim.o.spell
vim.b.undo_ftplugin = "setlocal commentstring< comments< wrap< linebreak< spell<"
