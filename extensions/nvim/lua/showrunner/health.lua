--- `:checkhealth showrunner`: the binary, its version, the project, the running clients, and
--- whether each model server the project names answers.
local util = require("showrunner.util")
local config = require("showrunner.config")

local M = {}

local health = vim.health

--- Splits `http://host:port/path` into its parts.
local function parse_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then
    return nil
  end
  local hostport, path = rest:match("^([^/]*)(.*)$")
  local host, port = hostport:match("^%[(.-)%]:?(%d*)$")
  if not host then
    host, port = hostport:match("^([^:]*):?(%d*)$")
  end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  return { scheme = scheme:lower(), host = host, port = port, path = path ~= "" and path or "/" }
end

--- Asks `GET <base_url>/models` over plain HTTP (for `https` only a TCP connection is tried: the
--- editor has no TLS of its own). Returns ok, a description.
function M.probe(base_url, timeout_ms)
  timeout_ms = timeout_ms or 3000
  local u = parse_url(base_url or "")
  if not u or u.host == "" then
    return false, "not a URL: " .. tostring(base_url)
  end
  local infos = vim.uv.getaddrinfo(u.host, tostring(u.port), { socktype = "stream" })
  if not infos or not infos[1] then
    return false, "cannot resolve " .. u.host
  end
  local addr = infos[1].addr
  local tcp = vim.uv.new_tcp()
  local done, ok, what = false, false, nil
  local function finish(o, w)
    if done then
      return
    end
    done, ok, what = true, o, w
    if not tcp:is_closing() then
      tcp:close()
    end
  end
  local path = u.path:gsub("/+$", "") .. "/models"
  tcp:connect(addr, u.port, function(err)
    if err then
      finish(false, "cannot connect: " .. err)
      return
    end
    if u.scheme ~= "http" then
      finish(true, "TCP connection made (TLS not checked from the editor)")
      return
    end
    local buf = ""
    tcp:read_start(function(rerr, data)
      if rerr then
        finish(false, "read failed: " .. rerr)
      elseif data then
        buf = buf .. data
        local status = buf:match("^HTTP/%d[%.%d]* (%d%d%d)")
        if status then
          local code = tonumber(status)
          finish(code < 500, string.format("GET %s answered %d", path, code))
        end
      else
        finish(false, "connection closed without an answer")
      end
    end)
    tcp:write(string.format("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\nConnection: close\r\n\r\n", path, u.host))
  end)
  vim.wait(timeout_ms, function()
    return done
  end, 10)
  if not done then
    finish(false, string.format("no answer within %d ms", timeout_ms))
  end
  return ok, what
end

local function binary()
  local cmd = config.options.cmd
  local bin = type(cmd) == "table" and cmd[1] or cmd
  if type(bin) ~= "string" then
    return nil
  end
  local path = vim.fn.exepath(bin)
  if path == "" then
    return nil, bin
  end
  return path, bin
end

function M.check()
  health.start("showrunner: Neovim")
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.10 or newer is needed")
  end
  if vim.g.showrunner_setup then
    health.ok("setup() was called")
  else
    health.warn('setup() was not called', { 'Add require("showrunner").setup{} to your config' })
  end

  health.start("showrunner: server binary")
  local path, name = binary()
  if not path then
    health.error(string.format("`%s` not found", tostring(name)), {
      "Install it: cargo install --path server/cli (in the Showrunner repository)",
      'or set the path: require("showrunner").setup{ cmd = { "/path/to/showrunner", "lsp" } }',
    })
  else
    health.ok("binary: " .. path)
    local res = vim.system({ path, "--version" }, { text = true }):wait(5000)
    if res.code == 0 then
      health.ok("version: " .. vim.trim(res.stdout or ""))
    else
      health.error(string.format("`%s --version` failed (exit %s): %s", path, tostring(res.code), vim.trim(res.stderr or "")))
    end
  end

  health.start("showrunner: project")
  -- `:checkhealth` shows its report in a buffer of its own: look at the buffer it was called
  -- from, the running clients' projects and the working directory.
  local roots, seen = {}, {}
  local function add(r)
    if r and not seen[r] then
      seen[r] = true
      table.insert(roots, r)
    end
  end
  add(util.project_root(vim.api.nvim_get_current_buf()))
  local alt = vim.fn.bufnr("#")
  if alt > 0 then
    add(util.project_root(alt))
  end
  local clients = require("showrunner.lsp").clients()
  for _, c in ipairs(clients) do
    add(c.root_dir and vim.fs.normalize(c.root_dir))
  end
  add(vim.fs.root(vim.fn.getcwd(), util.MARKER))
  if #roots == 0 then
    health.warn("no showrunner.yaml above the current file or folder, and no client running", {
      "Create a project: showrunner init DIR",
    })
  end
  for _, r in ipairs(roots) do
    health.ok("project: " .. r)
  end
  if #clients == 0 then
    health.info("no Showrunner client is running (it starts when a scene, Fountain file or bucket is opened)")
  end
  for _, c in ipairs(clients) do
    local info = c.server_info or {}
    health.ok(string.format("client %d: %s %s, root %s, position encoding %s", c.id, info.name or "showrunner", info.version or "", c.root_dir or "?", c.offset_encoding or "?"))
  end

  health.start("showrunner: model servers")
  if not path or #roots == 0 then
    health.info("skipped: needs the binary and a project")
    return
  end
  for _, r in ipairs(roots) do
    M.check_models(path, r, #roots > 1)
  end
end

--- The providers of one project, each probed.
function M.check_models(path, root, named)
  local where = named and (" (" .. root .. ")") or ""
  local res = vim.system({ path, "models", root, "--format", "json" }, { text = true }):wait(10000)
  local ok_json, report = pcall(vim.json.decode, res.stdout or "")
  if res.code ~= 0 or not ok_json or type(report) ~= "table" then
    health.error("`showrunner models` failed" .. where .. ": " .. vim.trim((res.stderr or "") .. " " .. (res.stdout or "")))
    return
  end
  if report.default_model and report.default_model ~= vim.NIL then
    health.ok("default model: " .. report.default_model .. where)
  else
    health.warn("no default_model in showrunner.yaml" .. where)
  end
  if config.options.model then
    health.info("runs started from Neovim use: " .. config.options.model)
  end
  local providers = report.providers or {}
  if #providers == 0 then
    health.warn("no providers in showrunner.yaml")
  end
  for _, p in ipairs(providers) do
    local url = p.base_url
    if type(url) ~= "string" then
      health.warn(string.format("provider %s has no base_url", p.name))
    else
      local reachable, what = M.probe(url, 3000)
      if reachable then
        health.ok(string.format("provider %s (%s) is reachable: %s", p.name, url, what))
      else
        health.warn(string.format("provider %s (%s) is not reachable: %s", p.name, url, what), {
          string.format("Start the model server, or change providers.%s.base_url in showrunner.yaml", p.name),
        })
      end
    end
    if type(p.api_key_env) == "string" then
      if p.key_set then
        health.ok(string.format("provider %s: $%s is set", p.name, p.api_key_env))
      else
        health.warn(string.format("provider %s: $%s is not set", p.name, p.api_key_env))
      end
    end
  end
end

return M
