--- Small helpers shared by the plugin's modules: Neovim-version shims (0.10 calls client methods
--- with a dot, 0.11 with a colon), paths, project roots, and LSP positions and ranges.
local M = {}

M.has_011 = vim.fn.has("nvim-0.11") == 1

--- The name of the file that marks a project's root.
M.MARKER = "showrunner.yaml"

--- Notifies with the plugin's prefix.
---@param msg string
---@param level? integer a vim.log.levels value
function M.notify(msg, level)
  vim.notify("Showrunner: " .. msg, level or vim.log.levels.INFO, { title = "Showrunner" })
end

function M.warn(msg)
  M.notify(msg, vim.log.levels.WARN)
end

function M.error(msg)
  M.notify(msg, vim.log.levels.ERROR)
end

--- `client:request(...)` on 0.11+, `client.request(...)` on 0.10.
function M.request(client, method, params, handler, bufnr)
  if M.has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- `client:request_sync(...)` on 0.11+, `client.request_sync(...)` on 0.10.
function M.request_sync(client, method, params, timeout_ms, bufnr)
  if M.has_011 then
    return client:request_sync(method, params, timeout_ms, bufnr)
  end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

--- The absolute, normalised path of a buffer's file ("" for an unnamed buffer).
---@param bufnr integer
---@return string
function M.buf_path(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return ""
  end
  return vim.fs.normalize(vim.fn.fnamemodify(name, ":p"))
end

--- The innermost folder holding `showrunner.yaml` above a path or buffer, or nil.
---@param source integer|string buffer number or path
---@return string?
function M.project_root(source)
  local path = type(source) == "number" and M.buf_path(source) or source
  if path == nil or path == "" then
    return nil
  end
  return vim.fs.root(path, M.MARKER)
end

--- What a project file is, as the server classifies it (server/store/src/discover.rs), or nil:
--- "config", "scene", "bucket", or "review" (a review document under `.showrunner/runs/`).
---@param root string project root
---@param path string absolute path
---@return string?
function M.classify(root, path)
  if root == nil or path == nil or path == "" then
    return nil
  end
  local prefix = root:gsub("/+$", "") .. "/"
  if path:sub(1, #prefix) ~= prefix then
    return nil
  end
  local rel = path:sub(#prefix + 1)
  local lower = rel:lower()
  if rel == M.MARKER then
    return "config"
  end
  if lower:match("%.fountain$") then
    return "scene"
  end
  if lower:match("%.scene%.md$") or (rel:match("^story/") and lower:match("%.md$")) then
    return "scene"
  end
  if rel:match("^buckets/") and (lower:match("%.ya?ml$")) then
    return "bucket"
  end
  if rel:match("^%.showrunner/runs/") and lower:match("%.md$") then
    return "review"
  end
  return nil
end

--- The project root of a buffer when the buffer is a file Showrunner serves, else nil.
---@param bufnr integer
---@return string? root, string? kind
function M.served_root(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local path = M.buf_path(bufnr)
  local root = M.project_root(path)
  local kind = root and M.classify(root, path)
  if not kind then
    return nil
  end
  return root, kind
end

--- The byte length of the UTF-8 character starting at byte `i` (1-based) of `s`.
function M.char_len(s, i)
  local b = s:byte(i)
  if not b then
    return 0
  elseif b >= 0xF0 then
    return 4
  elseif b >= 0xE0 then
    return 3
  elseif b >= 0xC0 then
    return 2
  end
  return 1
end

--- An LSP position for a 0-based row and byte column of a buffer.
---@param bufnr integer
---@param row integer 0-based
---@param col integer 0-based byte column
---@param encoding string the client's offset encoding
function M.position(bufnr, row, col, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  col = math.min(col, #line)
  local character = col
  if col > 0 then
    character = vim.lsp.util.character_offset(bufnr, row, col, encoding)
  end
  return { line = row, character = character }
end

--- The LSP range of a selection given as marks-style positions: rows 1-based, byte columns
--- 0-based, the end column pointing at the first byte of the last selected character (as the
--- `'<` and `'>` marks do). A linewise selection passes `linewise = true`.
---@return table lsp.Range
function M.selection_range(bufnr, srow, scol, erow, ecol, encoding, linewise)
  local last = vim.api.nvim_buf_get_lines(bufnr, erow - 1, erow, false)[1] or ""
  if linewise then
    scol = 0
    ecol = #last
  else
    -- Move past the whole last character, however many bytes it has.
    ecol = math.min(ecol, #last)
    if ecol < #last then
      ecol = ecol + M.char_len(last, ecol + 1)
    end
  end
  return {
    start = M.position(bufnr, srow - 1, scol, encoding),
    ["end"] = M.position(bufnr, erow - 1, ecol, encoding),
  }
end

--- The text of a selection given as for `selection_range`.
function M.selection_text(bufnr, srow, scol, erow, ecol, linewise)
  local lines = vim.api.nvim_buf_get_lines(bufnr, srow - 1, erow, false)
  if #lines == 0 then
    return ""
  end
  if not linewise then
    local last = lines[#lines]
    ecol = math.min(ecol, #last)
    if ecol < #last then
      ecol = ecol + M.char_len(last, ecol + 1)
    end
    lines[#lines] = last:sub(1, ecol)
    lines[1] = lines[1]:sub(scol + 1)
  end
  return table.concat(lines, "\n")
end

--- Splits text into buffer lines, remembering whether it ended with a newline.
---@return string[] lines, boolean eol
function M.to_lines(text)
  text = (text or ""):gsub("\r\n", "\n")
  local eol = text:sub(-1) == "\n"
  if eol then
    text = text:sub(1, -2)
  end
  return vim.split(text, "\n", { plain = true }), eol
end

--- Joins buffer lines back into text.
function M.from_lines(lines, eol)
  local text = table.concat(lines, "\n")
  if eol then
    text = text .. "\n"
  end
  return text
end

--- Reads a whole file, or nil.
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local s = f:read("*a")
  f:close()
  return s
end

--- A file path for a `file://` URI (other URIs are returned unchanged).
function M.uri_path(uri)
  if type(uri) == "string" and uri:match("^file:") then
    return vim.uri_to_fname(uri)
  end
  return uri
end

--- The judge's score of a gate's answer, as editors show it: 0.92 → "judged 0.92"; nil when
--- the gate carries none (it was not judged).
function M.judged(confidence)
  if type(confidence) ~= "number" then
    return nil
  end
  return string.format("judged %.2f", confidence)
end

--- Groups digits: 6000 → "6,000".
function M.digits(n)
  local s = tostring(math.floor(tonumber(n) or 0))
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

return M
