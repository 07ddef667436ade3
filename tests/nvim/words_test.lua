-- Words and goals: the statusline's "N words · today T/G · session S/G" (cached, refreshed on
-- BufEnter and save, counted by the server from the saved history) and `:Showrunner stats`.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/helpers.lua")

local digits = require("showrunner.util").digits
local root = H.project()
H.write(root .. "/showrunner.yaml", H.read(root .. "/showrunner.yaml") .. "goals: { project_words: 90000, daily_words: 1000, session_words: 500 }\n")
H.setup()

local scene, client = H.open(root .. "/story/ch01/01-arrival.md")
local total = H.exec(client, "showrunner.stats", { uri = vim.uri_from_bufnr(scene) }).words

local function statusline()
  return require("showrunner").statusline()
end

H.test("the statusline shows the project's words and today's progress without asking the server", function()
  H.ok(total > 7000, "the example's words: " .. tostring(total))
  local want = digits(total) .. " words · today 0/1,000 · session 0/500"
  H.wait("the words in the statusline", function()
    return statusline() == want
  end)
  -- Cached: reading it sends nothing.
  local sent = 0
  local orig = client.request
  client.request = function(...)
    sent = sent + 1
    return orig(...)
  end
  for _ = 1, 100 do
    H.eq(want, statusline(), "statusline")
  end
  client.request = orig
  H.eq(0, sent, "requests made by the statusline")
end)

H.test("saving counts today's words from the history", function()
  -- The first save puts the scene in the history: what it held then is where today starts.
  vim.cmd("silent write")
  H.wait("the first save recorded", function()
    local events = H.exec(client, "showrunner.history", { uri = vim.uri_from_bufnr(scene) })
    return #events == 1
  end)
  vim.api.nvim_buf_set_lines(scene, -1, -1, false, { "", "Zoë’s naïve café — Łukasz wartete." })
  vim.cmd("silent write")
  local want = digits(total + 5) .. " words · today 5/1,000 · session 5/500"
  H.wait("the statusline after the save", function()
    return statusline() == want
  end)
  local g = require("showrunner.words").cache[root]
  H.eq(5, g.today, "today")
  H.eq(1000, g.daily_goal, "daily goal")
  H.ok(type(g.session_started) == "number", "a session started with the save")
end)

H.test(":Showrunner stats shows the goals and the words", function()
  vim.cmd("Showrunner stats")
  local text = H.wait("the stats float", function()
    local t = H.text(vim.api.nvim_get_current_buf())
    return vim.api.nvim_win_get_config(0).relative ~= "" and t:find("Goals") and t
  end)
  H.contains(text, "Project   " .. digits(total + 5) .. " of 90,000 (", "project goal")
  H.contains(text, "Today     5 of 1,000 (0%) words", "today")
  H.contains(text, "Session   5 of 500 (1%) words", "session")
  H.contains(text, "Mentions per chapter", "the heatmap")
  vim.cmd("close")
  H.eq(scene, vim.api.nvim_get_current_buf(), "back in the scene")
end)

H.test("a project without a server shows nothing", function()
  H.eq("", require("showrunner.words").format(nil), "no answer yet")
  H.eq("12 words · today -3", require("showrunner.words").format({ words = 12, today = -3, daily_goal = vim.NIL, session = 0 }), "no goals")
end)

H.finish()
