--[[ Run the Lua bridge script as Resolve would, with the fake Resolve of the test process.

    luajit tests/lua/run_bridge.lua SCRIPT [BRIDGE_SCRIPT]

SCRIPT is the Lua bridge, or the Lua launcher (which runs the bridge BRIDGE_SCRIPT); the
proxy channel uses the JSON codec of BRIDGE_SCRIPT (default: SCRIPT).

The script runs with a global `resolve` (as Resolve provides it to Lua scripts): a proxy
whose calls go over this process's stdout/stdin to the test's FakeHost. print() (Resolve's
Console) goes to stderr so the channel stays clean.
]]

local script = arg[1]
local codec_script = arg[2] or script
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

print = function(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  io.stderr:write(table.concat(parts, "\t"), "\n")
  io.stderr:flush()
end

MONTAGE_BRIDGE_LIBRARY = true
local bridge = dofile(codec_script)   -- its JSON codec, for the proxy channel
MONTAGE_BRIDGE_LIBRARY = nil
resolve = require("fake_resolve_proxy").new(bridge.json, io.stdout, io.stdin)
dofile(script)                  -- as Resolve runs it
