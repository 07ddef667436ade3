-- Fountain: filetype detection (`*.fountain`) and the syntax file's elements, checked by the
-- syntax group Neovim reports at each spot. Needs no server.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/helpers.lua")

local SCRIPT = [==[
Title: The Lighthouse
    Episode One: "The Inspector"
Author: The Showrunner example project
Draft date: 1 March 2025

# ACT ONE

= The inspector lands; Zoë will not gossip.

EXT. THE LANDING STAGE - DUSK #1A#

Grey water heaves against dressed granite. In the stern, *gripping* a case: ŁUKASZ NOWAK.

ŁUKASZ
(looking up at the tower)
Miss Marlowe? **Nowak**. _Inspector_ of Lights.

ALICE (V.O.) (CONT'D)
We are. My father is seeing to the lamp.

ZOË
Dots and dashes.

@McGREGOR ^
And the log, ***always*** the log.

INT./EXT. WIRELESS HUT - NIGHT

.THE GALLERY

!SILENCE. The lamp turns.

CUT TO:

> FADE OUT.

>THE END<

[[Alice's first lie. Let it land.]]

/* A scene we cut:
INT. KITCHEN - NIGHT
*/

~The keeper's song, low and slow~

===

i/e lamp room - later

An escaped \*star\* stays plain.
]==]

local function group_at(buf, needle, offset)
  local row, col = H.find(buf, needle)
  local id = vim.fn.synID(row + 1, col + 1 + (offset or 0), 1)
  return vim.fn.synIDattr(id, "name")
end

local function stack_at(buf, needle, offset)
  local row, col = H.find(buf, needle)
  local names = {}
  for _, id in ipairs(vim.fn.synstack(row + 1, col + 1 + (offset or 0))) do
    table.insert(names, vim.fn.synIDattr(id, "name"))
  end
  return names
end

local path = vim.fn.tempname() .. "-episode.fountain"
H.write(path, SCRIPT)
vim.cmd.edit(vim.fn.fnameescape(path))
local buf = vim.api.nvim_get_current_buf()

H.test("a .fountain file has the filetype fountain (before setup)", function()
  H.eq("fountain", vim.bo[buf].filetype, "filetype")
  H.eq("fountain", vim.b[buf].current_syntax, "syntax loaded")
  H.eq("[[ %s ]]", vim.bo[buf].commentstring, "ftplugin commentstring")
end)

H.test("setup() keeps detection, also for .spmd", function()
  require("showrunner").setup({ cmd = { H.bin, "lsp" } })
  H.eq("fountain", vim.filetype.match({ filename = "pilot.fountain" }), "fountain")
  H.eq("fountain", vim.filetype.match({ filename = "pilot.spmd" }), "spmd")
end)

local cases = {
  { "title page key", "Draft date", 0, "fountainTitleKey" },
  { "section", "# ACT ONE", 2, "fountainSection" },
  { "synopsis", "= The inspector", 2, "fountainSynopsis" },
  { "scene heading", "EXT. THE LANDING", 5, "fountainSceneHeading" },
  { "scene number", "#1A#", 1, "fountainSceneNumber" },
  { "INT./EXT. heading", "INT./EXT. WIRELESS", 12, "fountainSceneHeading" },
  { "forced scene heading", ".THE GALLERY", 4, "fountainSceneHeading" },
  { "lower-case i/e heading", "i/e lamp room", 6, "fountainSceneHeading" },
  { "cue with a non-ASCII name", "ŁUKASZ\n", 0, "fountainCue" },
  { "parenthetical", "(looking up", 2, "fountainParenthetical" },
  { "dialogue", "Miss Marlowe?", 2, "fountainDialogue" },
  { "bold in dialogue", "**Nowak**", 3, "fountainBold" },
  { "underline in dialogue", "_Inspector_", 2, "fountainUnderline" },
  { "cue with extensions", "ALICE (V.O.)", 1, "fountainCue" },
  { "cue extension", "(CONT'D)", 1, "fountainCueExtension" },
  { "cue Zoë", "ZOË", 0, "fountainCue" },
  { "forced cue", "@McGREGOR", 1, "fountainCue" },
  { "dual dialogue caret", "McGREGOR ^", 9, "fountainDualMark" },
  { "bold italic", "***always***", 4, "fountainBoldItalic" },
  { "forced action", "!SILENCE", 2, "fountainAction" },
  { "transition", "CUT TO:", 1, "fountainTransition" },
  { "forced transition", "> FADE OUT.", 3, "fountainTransition" },
  { "centred text", ">THE END<", 3, "fountainCentered" },
  { "note", "[[Alice's first lie", 4, "fountainNote" },
  { "boneyard", "INT. KITCHEN - NIGHT", 2, "fountainBoneyard" },
  { "lyrics", "~The keeper's song", 3, "fountainLyrics" },
  { "page break", "===", 1, "fountainPageBreak" },
  { "italic in action", "*gripping*", 2, "fountainItalic" },
}

for _, c in ipairs(cases) do
  H.test("syntax: " .. c[1], function()
    local needle = c[2]:gsub("\n$", "")
    if c[2]:sub(-1) == "\n" then
      -- A line that is exactly the needle.
      local found
      for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
        if line == needle then
          found = i
          break
        end
      end
      H.ok(found, "line " .. needle)
      local id = vim.fn.synID(found, 1 + c[3], 1)
      H.eq(c[4], vim.fn.synIDattr(id, "name"), c[1])
    else
      H.eq(c[4], group_at(buf, needle, c[3]), c[1])
    end
  end)
end

H.test("syntax: action is not a cue, escaped stars stay plain", function()
  H.eq("", group_at(buf, "Grey water", 0), "action")
  local names = stack_at(buf, "\\*star", 3)
  H.ok(not vim.tbl_contains(names, "fountainItalic"), "escaped star is not italic: " .. vim.inspect(names))
end)

H.test("syntax: dialogue ends at the blank line", function()
  -- The line after ZOË's dialogue block is a blank line, then a forced cue: not dialogue.
  local names = stack_at(buf, "INT./EXT. WIRELESS", 0)
  H.ok(not vim.tbl_contains(names, "fountainDialogue"), "heading is outside dialogue: " .. vim.inspect(names))
end)

H.finish()
