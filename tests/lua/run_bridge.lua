--[[ Run the Lua bridge script as Resolve would, with the fake Resolve of the test process.

    luajit tests/lua/run_bridge.lua BRIDGE_SCRIPT

The script runs with a global `resolve` (as Resolve provides it to Lua scripts): a proxy
whose calls go over this process's stdout/stdin to the test's FakeHost. print() (Resolve's
Console) goes to stderr so the channel stays clean.
]]

local script = arg[1]
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

print = function(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  io.stderr:write(table.concat(parts, "\t"), "\n")
  io.stderr:flush()
end

MONTAGE_BRIDGE_LIBRARY = true
local bridge = dofile(script)   -- its JSON codec, for the proxy channel
MONTAGE_BRIDGE_LIBRARY = nil
resolve = require("fake_resolve_proxy").new(bridge.json, io.stdout, io.stdin)
dofile(script)                  -- as Resolve runs it
