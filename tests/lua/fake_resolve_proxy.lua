--[[ The fake Resolve of tests/fake_resolve.py, as Lua objects for the Lua bridge under test.

Each proxy object stands for one fake object in the test process: a method call
(obj:GetName(), pool:AppendToTimeline({...})) is sent as one JSON line to the test's
FakeHost (tests/fake_resolve_remote.py, which documents the channel) and its answer comes
back as Lua values the way Resolve's Lua API gives them: lists as tables from 1, dicts as
tables (GetMarkers keyed by frame numbers), nil for None, objects as proxies.
]]

local M = {}

function M.new(json, calls_out, answers_in)
  local proxies = {}
  local proxy_of

  local function encode(v)
    if v == nil or v == json.null then return json.null end
    local kind = type(v)
    if kind ~= "table" then return v end
    if rawget(v, "__fake_handle") then return json.object({O = rawget(v, "__fake_handle")}) end
    local n, count = #v, 0
    for _ in pairs(v) do count = count + 1 end
    if count == n then
      local items = json.array()
      for i = 1, n do items[i] = encode(v[i]) end
      return json.object({L = items})
    end
    local pairs_list = json.array()
    for k, x in pairs(v) do pairs_list[#pairs_list + 1] = json.array({k, encode(x)}) end
    return json.object({D = pairs_list})
  end

  local function decode(v)
    if v == json.null then return nil end
    if type(v) ~= "table" then return v end
    if v.L then
      local out = {}
      for i, x in ipairs(v.L) do out[i] = decode(x) end
      return out
    end
    if v.D then
      local out = {}
      for _, kv in ipairs(v.D) do out[decode(kv[1])] = decode(kv[2]) end
      return out
    end
    if v.O then return proxy_of(v.O) end
    error("bad value from the fake host")
  end

  local function call(handle, method, ...)
    local args = json.array()
    for i = 1, select("#", ...) do args[i] = encode((select(i, ...))) end
    calls_out:write(json.encode(json.object({h = handle, m = method, a = args})), "\n")
    calls_out:flush()
    local line = answers_in:read("*l")
    if not line then error("the fake Resolve has gone away") end
    local answer = json.decode(line)
    if answer.missing then error("no method " .. method) end
    if answer.x then error(answer.x) end
    return decode(answer.r)
  end

  function proxy_of(handle)
    if not proxies[handle] then
      proxies[handle] = setmetatable({__fake_handle = handle}, {
        __index = function(_, name)
          return function(self, ...) return call(handle, name, ...) end
        end,
      })
    end
    return proxies[handle]
  end

  return proxy_of(0)
end

return M
