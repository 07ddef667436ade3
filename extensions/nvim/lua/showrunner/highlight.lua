--- Entity colours: the server types every mention by its bucket's kind (semantic tokens
--- `character`, `location`, …, modifiers `ambiguous` and `cue`); Neovim shows a token with the
--- groups `@lsp.type.<type>` and `@lsp.mod.<modifier>`. These links are defaults (`default =
--- true`): a colour scheme or the user's own `:highlight` wins.
local M = {}

--- Token type (or modifier) → the group it links to by default.
M.links = {
  ["@lsp.type.character"] = "Identifier",
  ["@lsp.type.location"] = "Type",
  ["@lsp.type.item"] = "Constant",
  ["@lsp.type.faction"] = "Structure",
  ["@lsp.type.research"] = "Special",
  ["@lsp.type.note"] = "PreProc",
  ["@lsp.type.season"] = "Title",
  ["@lsp.type.arc"] = "Title",
  ["@lsp.type.act"] = "Title",
  ["@lsp.type.chapter"] = "Title",
  ["@lsp.type.entity"] = "Underlined",
  ["@lsp.mod.ambiguous"] = "DiagnosticUnderlineWarn",
  ["@lsp.mod.cue"] = "@markup.strong",
}

function M.apply()
  for group, target in pairs(M.links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end

function M.setup()
  M.apply()
  vim.api.nvim_create_autocmd("ColorScheme", {
    group = vim.api.nvim_create_augroup("showrunner.highlight", { clear = true }),
    callback = M.apply,
  })
end

return M
