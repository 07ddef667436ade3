-- Showrunner: Fountain detection is always on; everything else waits for setup().
if vim.g.loaded_showrunner then
  return
end
vim.g.loaded_showrunner = true
require("showrunner.filetype").setup()
