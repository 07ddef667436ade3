-- lsp_test.lua again, with the client started the Neovim 0.10 way (`vim.lsp.start` from a
-- FileType autocommand, `legacy_start = true`), so that path is tested on 0.11 too.
_G.SHOWRUNNER_TEST_LEGACY = true
dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/lsp_test.lua")
