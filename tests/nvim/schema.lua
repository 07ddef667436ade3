-- Checks a message against the editor protocol's JSON Schema (extensions/protocol.schema.json,
-- generated from server/lsp/src/protocol.rs), with the rules of server/testkit/src/schema.rs:
-- `$ref` (to `#/$defs/Name`), `anyOf`/`oneOf` (one alternative must match), `allOf`, `const`,
-- `enum`, `type` (a name or a list of names), `minimum`, `properties` with `required`, `items`;
-- `format`, `default`, `description` and `title` are ignored. Strict about what the schema does
-- not name: an object checked against `properties` may hold no other keys unless the schema
-- allows `additionalProperties`. Paths are JSON paths as the Rust checker writes them: `$`,
-- `$.gate.kind`, `$.steps[0]` (array indices from 0).
--
-- JSON as Lua tables is ambiguous in two ways, and the checker handles both:
--  * `vim.NIL` is JSON null (so is a Lua nil where a value is expected). Neovim decodes what a
--    server sends with `luanil = { object = true }`: a key whose value was null is simply not
--    there. So in a message *received* (`opts.received`), a required key that is absent counts
--    as present when its schema admits null; the checker cannot tell the two apart, and neither
--    can the plugin.
--  * An empty table may be `{}` or `[]`. `vim.empty_dict()` (what `vim.json.decode` makes of
--    `{}`) is an object. A plain empty table is an array in a message *sent* (`opts.sent`:
--    `vim.json.encode` writes it as `[]`), and either an array or an object otherwise (`[]`
--    decodes to one, and so does an object whose every key was null).
--
-- Use:
--   local schema = dofile("tests/nvim/schema.lua")
--   local root = schema.load()                                 -- extensions/protocol.schema.json
--   local ok, err = schema.check_arguments(root, "showrunner.run.status", { run = "r" })
--   local ok, err = schema.check_result(root, "showrunner.run.status", result)
--   local ok, err = schema.check_notification(root, "showrunner/runProgress", params)
--   local ok, err = schema.check(root, root["$defs"].Range, value, opts)
local M = {}

local NIL = vim.NIL
local empty_dict_mt = getmetatable(vim.empty_dict())

local here = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h")

--- The protocol schema as checked in (or the one at `path`).
function M.load(path)
  path = path or vim.fs.normalize(here .. "/../../extensions/protocol.schema.json")
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  -- No `luanil`: the schema's own nulls (`"const": null`, `"default": null`) stay vim.NIL.
  return vim.json.decode(text)
end

local function is_null(v)
  return v == nil or v == NIL
end

--- What a Lua value is as JSON: "null", "boolean", "number", "string", "array", "object",
--- "empty" (a plain empty table: `[]` or `{}`), or nil (not JSON: a function, mixed keys…).
local function kind(v, sent)
  if is_null(v) then
    return "null"
  end
  local t = type(v)
  if t == "boolean" or t == "string" then
    return t
  end
  if t == "number" then
    -- NaN and infinities are not JSON numbers.
    if v ~= v or v == math.huge or v == -math.huge then
      return nil
    end
    return "number"
  end
  if t ~= "table" then
    return nil
  end
  if next(v) == nil then
    if getmetatable(v) == empty_dict_mt then
      return "object"
    end
    return sent and "array" or "empty"
  end
  if vim.islist(v) then
    return "array"
  end
  for k in pairs(v) do
    if type(k) ~= "string" then
      return nil
    end
  end
  return "object"
end

local function is_object(k)
  return k == "object" or k == "empty"
end

local function is_array(k)
  return k == "array" or k == "empty"
end

--- A value as JSON text for messages, cut short when long.
local function show(v, limit)
  if v == nil then
    return "null"
  end
  local ok, s = pcall(vim.json.encode, v)
  if not ok then
    s = vim.inspect(v)
  end
  limit = limit or 200
  if #s > limit then
    s = s:sub(1, limit - 3) .. "..."
  end
  return s
end
M.show = show

local function type_ok(t, v, k)
  if t == "null" then
    return k == "null"
  elseif t == "boolean" or t == "string" then
    return k == t
  elseif t == "integer" then
    return k == "number" and v == math.floor(v)
  elseif t == "number" then
    return k == "number"
  elseif t == "array" then
    return is_array(k)
  elseif t == "object" then
    return is_object(k)
  end
  return false
end

--- JSON equality (for `const` and `enum`).
local function same(a, b)
  if is_null(a) or is_null(b) then
    return is_null(a) and is_null(b)
  end
  if type(a) ~= "table" or type(b) ~= "table" then
    return a == b
  end
  for key, av in pairs(a) do
    if not same(av, b[key]) then
      return false
    end
  end
  for key, bv in pairs(b) do
    if a[key] == nil and not is_null(bv) then
      return false
    end
  end
  return true
end

--- The keys of an object, sorted (so the first problem reported does not depend on hashing).
local function keys(obj)
  local out = {}
  for key in pairs(obj) do
    table.insert(out, key)
  end
  table.sort(out, function(x, y)
    return tostring(x) < tostring(y)
  end)
  return out
end

local at

--- Checks `v` at `path` against `s`; the first problem, or nil.
at = function(root, s, v, path, opts)
  if s == true then
    return nil
  end
  if s == false then
    return string.format("%s: %s is not allowed here", path, show(v))
  end
  if type(s) ~= "table" then
    return string.format("%s: the schema here is not a schema: %s", path, show(s))
  end
  local k = kind(v, opts.sent)
  if k == nil then
    return string.format("%s: %s is not JSON", path, vim.inspect(v))
  end

  local ref = s["$ref"]
  if ref ~= nil then
    local name = type(ref) == "string" and ref:match("^#/%$defs/(.+)$")
    if not name then
      return string.format("%s: unsupported $ref %s", path, tostring(ref))
    end
    local def = type(root["$defs"]) == "table" and root["$defs"][name] or nil
    if is_null(def) then
      return string.format("%s: no definition %s", path, name)
    end
    local err = at(root, def, v, path, opts)
    if err then
      return err
    end
  end

  for _, key in ipairs({ "anyOf", "oneOf" }) do
    local alts = s[key]
    if type(alts) == "table" then
      local errors = {}
      for _, alt in ipairs(alts) do
        local err = at(root, alt, v, path, opts)
        if err then
          table.insert(errors, err)
        end
      end
      if #errors == #alts then
        return string.format("%s: matches none of %s: %s", path, key, table.concat(errors, "; "))
      end
    end
  end

  if type(s.allOf) == "table" then
    for _, part in ipairs(s.allOf) do
      local err = at(root, part, v, path, opts)
      if err then
        return err
      end
    end
  end

  if s.const ~= nil and not same(s.const, v) then
    return string.format("%s: %s is not %s", path, show(v), show(s.const))
  end

  if type(s.enum) == "table" then
    local found = false
    for _, e in ipairs(s.enum) do
      if same(e, v) then
        found = true
        break
      end
    end
    if not found then
      return string.format("%s: %s is not one of %s", path, show(v), show(s.enum))
    end
  end

  local t = s.type
  if type(t) == "string" then
    if not type_ok(t, v, k) then
      return string.format("%s: %s is not %s", path, show(v), t)
    end
  elseif type(t) == "table" then
    local any = false
    for _, name in ipairs(t) do
      if type(name) == "string" and type_ok(name, v, k) then
        any = true
        break
      end
    end
    if not any then
      return string.format("%s: %s is none of %s", path, show(v), show(t))
    end
  end

  if type(s.minimum) == "number" and k == "number" and v < s.minimum then
    return string.format("%s: %s is below %s", path, show(v), show(s.minimum))
  end

  local props = s.properties
  if type(props) == "table" and is_object(k) then
    local obj = v
    if type(s.required) == "table" then
      for _, req in ipairs(s.required) do
        if type(req) == "string" and obj[req] == nil then
          -- A null the client decoded away (see the top of this file).
          local nullable = opts.received and props[req] ~= nil and at(root, props[req], NIL, path, opts) == nil
          if not nullable then
            return string.format("%s: `%s` is missing", path, req)
          end
        end
      end
    end
    local extra = s.additionalProperties
    for _, key in ipairs(keys(obj)) do
      local ps = props[key]
      if ps ~= nil then
        local err = at(root, ps, obj[key], path .. "." .. key, opts)
        if err then
          return err
        end
      elseif extra ~= nil and extra ~= false then
        -- Allowed, and (as in the Rust checker) not checked further.
      else
        return string.format("%s: `%s` is not in the schema", path, key)
      end
    end
  end

  if s.items ~= nil and is_array(k) then
    for i, item in ipairs(v) do
      local err = at(root, s.items, item, string.format("%s[%d]", path, i - 1), opts)
      if err then
        return err
      end
    end
  end
  return nil
end

--- Checks `value` against `schema` (a subschema of `root`). Returns true, or false and the first
--- problem with its path. `opts.sent`: a value about to be encoded; `opts.received`: a value
--- decoded from what a server sent (see the top of this file).
function M.check(root, schema, value, opts)
  local err = at(root, schema, value, "$", opts or {})
  if err then
    return false, err
  end
  return true
end

local function command(root, name, part)
  local cmds = root.commands
  local c = type(cmds) == "table" and type(name) == "string" and cmds[name] or nil
  if type(c) ~= "table" or c[part] == nil then
    return nil, string.format("the schema has no command `%s`", tostring(name))
  end
  return c[part]
end

--- Checks the argument the client sends with `workspace/executeCommand` (`arguments[1]`).
function M.check_arguments(root, name, args)
  local s, err = command(root, name, "arguments")
  if not s then
    return false, err
  end
  local ok, e = M.check(root, s, args, { sent = true })
  return ok, not ok and string.format("%s arguments: %s", name, e) or nil
end

--- Checks the result of a command as the client decoded it.
function M.check_result(root, name, value)
  local s, err = command(root, name, "result")
  if not s then
    return false, err
  end
  local ok, e = M.check(root, s, value, { received = true })
  return ok, not ok and string.format("%s result: %s", name, e) or nil
end

--- Checks a notification's params as the client decoded them.
function M.check_notification(root, method, params)
  local n = root.notifications
  local s = type(n) == "table" and n[method] or nil
  if s == nil then
    return false, string.format("the schema has no notification `%s`", tostring(method))
  end
  local ok, e = M.check(root, s, params, { received = true })
  return ok, not ok and string.format("%s: %s", method, e) or nil
end

return M
