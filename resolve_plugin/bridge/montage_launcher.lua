-- montage-ai resolve lua launcher
--[[
Montage AI for DaVinci Resolve, for editions whose Scripts menu lists only Lua scripts
(the free edition 21.1 and later): Workspace > Scripts > Utility > Montage AI (Lua).

Installed by `montage-ai install-resolve`, which fills in CONFIG_PATH (the JSON config naming
our environment's `montage-ai` command and log) and BRIDGE_SCRIPT (the Lua bridge installed
beside this file). It

1. starts the Montage AI panel as a separate process with our own interpreter
   (`<command> panel --resolve`: it connects through the bridge below; PYTHONHOME/PYTHONPATH
   of Resolve removed, output to our log);
2. runs the Lua bridge in this script, so the panel reaches Resolve through it (the bridge
   serves until the panel or `montage-ai` asks it to stop, or Resolve quits).

Tested with luajit and the fake Resolve of Montage AI's tests; not yet run inside Resolve.
]]

local CONFIG_PATH = ""  -- written by the installer
local BRIDGE_SCRIPT = ""  -- written by the installer

local function report(message)
  print("Montage AI: " .. message)
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function load_bridge()
  MONTAGE_BRIDGE_LIBRARY = true
  local ok, lib = pcall(dofile, BRIDGE_SCRIPT)
  MONTAGE_BRIDGE_LIBRARY = nil
  if not ok then
    report("cannot load the Lua bridge " .. BRIDGE_SCRIPT .. " (" .. tostring(lib) .. "); run `montage-ai install-resolve` again")
    return nil
  end
  return lib
end

local function start_panel(config)
  local command = config.command
  if type(command) ~= "table" or #command == 0 then
    report("the config " .. CONFIG_PATH .. " names no command; run `montage-ai install-resolve` again")
    return false
  end
  local exe = io.open(command[1], "rb")
  if not exe then
    report("the Montage AI environment is gone (" .. command[1] .. " not found); run the installer again")
    return false
  end
  exe:close()
  local parts = {}
  for _, part in ipairs(command) do parts[#parts + 1] = shell_quote(part) end
  parts[#parts + 1] = "panel"
  parts[#parts + 1] = "--resolve"  -- connect: route selection finds the bridge this script serves
  local log = config.log or "/dev/null"
  local line
  if package.config:sub(1, 1) == "\\" then
    local quoted = {}
    for _, part in ipairs(command) do quoted[#quoted + 1] = '"' .. part .. '"' end
    line = 'start "" /B ' .. table.concat(quoted, " ") .. ' panel --resolve >> "' .. log .. '" 2>&1'
  else
    line = "env -u PYTHONHOME -u PYTHONPATH nohup " .. table.concat(parts, " ") .. " >> " .. shell_quote(log)
      .. " 2>&1 < /dev/null &"
  end
  os.execute(line)
  report("panel starting (" .. table.concat(command, " ") .. " panel --resolve; log " .. log .. ")")
  return true
end

local function main()
  local bridge = load_bridge()
  if not bridge then return 2 end
  local f = io.open(CONFIG_PATH, "rb")
  local text = f and f:read("*a")
  if f then f:close() end
  local ok, config = pcall(bridge.json.decode, text or "")
  if not text or not ok or type(config) ~= "table" then
    report("cannot read the launcher config " .. CONFIG_PATH .. "; run `montage-ai install-resolve` again")
    return 2
  end
  start_panel(config)
  dofile(BRIDGE_SCRIPT)  -- serves until stopped
  return 0
end

main()
