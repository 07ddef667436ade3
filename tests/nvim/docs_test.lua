-- The help file: valid tags (no duplicates), reachable with :help, and every `:Showrunner`
-- subcommand documented.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/helpers.lua")

-- A copy, so that `:helptags` does not write a tags file into the repository.
local rtp = vim.fn.tempname() .. "-doc"
H.write(rtp .. "/doc/showrunner.txt", H.read(H.plugin .. "/doc/showrunner.txt"))

H.test(":helptags accepts the help file", function()
  vim.cmd("helptags " .. vim.fn.fnameescape(rtp .. "/doc"))
  H.ok(vim.fn.filereadable(rtp .. "/doc/tags") == 1, "tags written")
  vim.opt.runtimepath:append(rtp)
end)

H.test(":help finds the topics", function()
  for _, topic in ipairs({ "showrunner", "showrunner-setup", "showrunner-review", ":Showrunner", "showrunner-health" }) do
    vim.cmd("help " .. topic)
    H.contains(vim.api.nvim_buf_get_name(0), "showrunner.txt", topic)
    vim.cmd("helpclose")
  end
end)

H.test("every subcommand has a help tag", function()
  require("showrunner").setup({ cmd = { H.bin, "lsp" } })
  local tags = H.read(rtp .. "/doc/tags")
  for _, name in ipairs(require("showrunner.commands").names()) do
    H.ok(tags:find(":Showrunner-" .. name .. "\t", 1, true), "no help tag :Showrunner-" .. name)
  end
end)

H.test("every review key is documented", function()
  local doc = H.read(H.plugin .. "/doc/showrunner.txt")
  for action, key in pairs(require("showrunner.config").defaults.keys) do
    H.ok(doc:find(vim.pesc(key) .. "%s+" .. action), "review key " .. key .. " " .. action)
  end
end)

H.finish()
