--[[ Check the Lua bridge's SHA-256, HMAC-SHA256 and JSON against the test's Python.

    luajit tests/lua/check_codec.lua BRIDGE_SCRIPT < cases

Each input line is "sha <hex message>", "hmac <hex key> <hex message>" or "json <text>";
each output line is the digest (hex) or the JSON re-encoded by the bridge's codec (or
"error <message>" when decoding failed).
]]

MONTAGE_BRIDGE_LIBRARY = true
local bridge = dofile(arg[1])

local function unhex(h)
  return (h:gsub("%x%x", function(b) return string.char(tonumber(b, 16)) end))
end

for line in io.lines() do
  local kind, rest = line:match("^(%a+) ?(.*)$")
  if kind == "sha" then
    io.write(bridge.sha256_hex(unhex(rest)), "\n")
  elseif kind == "hmac" then
    local key, msg = rest:match("^(%x*) (%x*)$")
    io.write(bridge.hmac_sha256_hex(unhex(key), unhex(msg)), "\n")
  elseif kind == "json" then
    local ok, value = pcall(bridge.json.decode, rest)
    if ok then io.write(bridge.json.encode(value), "\n") else io.write("error ", tostring(value), "\n") end
  end
end
