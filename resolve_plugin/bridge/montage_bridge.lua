-- montage-ai resolve bridge
--[[
Montage AI bridge for DaVinci Resolve, in Lua: Workspace > Scripts > Utility > Montage AI Bridge (Lua).

For editions whose Scripts menu lists only Lua scripts (the free edition 21.1 and later): the
same protocol, bridge file and operations as montage_bridge.py (see wire.py and
resolve_ops.py in Montage AI), written for Resolve's LuaJIT:

- listens on 127.0.0.1 only, at a random free port (POSIX sockets through LuaJIT's FFI);
- writes port, process id and a random secret (from /dev/urandom) to the bridge file,
  mode 0600, through a temporary file and a rename;
- every request is signed: HMAC-SHA256 (implemented below with LuaJIT's bit library:
  Resolve's Lua has no crypto) of the body with the secret, plus the connection's nonce and a
  sequence number, so a recorded request cannot be replayed;
- the length prefix is read first: a message over 16 MB is refused before its body is read;
- only the operations of the fixed table OPS run, their arguments checked; nothing is
  evaluated;
- one thread: poll() multiplexes the connections, so a silent client (closed after 15 s) or a
  slow one does not block the others, and every Resolve call is made from this thread;
- stops on a signed stop request, when Resolve stops answering, or when a newer bridge has
  taken over the bridge file. Where a Python bridge is running it is left alone (the Python
  bridge is preferred where both can run).

Tested with Debian's luajit against the fake Resolve of Montage AI's tests (a Lua proxy of
its objects). Linux and macOS; Windows (winsock) is not supported by this file and not tested.
Not yet run inside a real Resolve.
]]

local BRIDGE_FILE = ""  -- written by the installer

local ffi = require("ffi")
local bit = require("bit")

local M = {PROTOCOL = 1, MAX_MESSAGE = 16 * 1024 * 1024, IDLE_TIMEOUT = 15.0, MAX_CLIENTS = 32, KIND = "lua",
           AUTH_DEADLINE = 5.0, MAX_UNAUTHENTICATED = 8, BODY_DEADLINE = 30.0}

local function report(message)
  print("Montage AI bridge (Lua): " .. message)
end

------------------------------------------------------------------------------ JSON
local json = {}
M.json = json
json.null = setmetatable({}, {__tostring = function() return "null" end})
local ARRAY = {__jsontype = "array"}
local OBJECT = {__jsontype = "object"}
function json.array(t) return setmetatable(t or {}, ARRAY) end
function json.object(t) return setmetatable(t or {}, OBJECT) end

local escapes = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
                 ["\t"] = "\\t"}
local function escape_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt == ARRAY then return true end
  if mt == OBJECT then return false end
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k % 1 ~= 0 then return false end
    n = n + 1
  end
  for i = 1, n do if t[i] == nil then return false end end
  return true
end

local function encode_value(v, out)
  local kind = type(v)
  if v == nil or v == json.null then
    out[#out + 1] = "null"
  elseif kind == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif kind == "number" then
    if v ~= v or v == math.huge or v == -math.huge then error("cannot encode " .. tostring(v) .. " in JSON") end
    if v % 1 == 0 and math.abs(v) < 2 ^ 53 then
      out[#out + 1] = string.format("%d", v)
    else
      out[#out + 1] = string.format("%.17g", v)
    end
  elseif kind == "string" then
    out[#out + 1] = escape_string(v)
  elseif kind == "table" then
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode_value(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = escape_string(k)
        out[#out + 1] = ":"
        local value = v[k]
        if value == nil then value = v[tonumber(k)] end
        encode_value(value, out)
      end
      out[#out + 1] = "}"
    end
  else
    error("cannot encode a " .. kind .. " in JSON")
  end
end

function json.encode(v)
  local out = {}
  encode_value(v, out)
  return table.concat(out)
end

local function utf8_char(code)
  if code < 0x80 then return string.char(code) end
  if code < 0x800 then return string.char(0xC0 + bit.rshift(code, 6), 0x80 + bit.band(code, 0x3F)) end
  if code < 0x10000 then
    return string.char(0xE0 + bit.rshift(code, 12), 0x80 + bit.band(bit.rshift(code, 6), 0x3F),
                       0x80 + bit.band(code, 0x3F))
  end
  return string.char(0xF0 + bit.rshift(code, 18), 0x80 + bit.band(bit.rshift(code, 12), 0x3F),
                     0x80 + bit.band(bit.rshift(code, 6), 0x3F), 0x80 + bit.band(code, 0x3F))
end

function json.decode(s)
  local pos = 1
  local depth = 0
  local function fail(what) error(string.format("bad JSON at byte %d: %s", pos, what), 0) end
  local function skip() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  local function str()
    pos = pos + 1
    local parts = {}
    while true do
      local stop = s:find('["\\%c]', pos)
      if not stop then fail("unterminated string") end
      parts[#parts + 1] = s:sub(pos, stop - 1)
      local c = s:sub(stop, stop)
      if c == '"' then pos = stop + 1; break end
      if c ~= "\\" then fail("control character in a string") end
      local e = s:sub(stop + 1, stop + 1)
      local simple = ({['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"})[e]
      if simple then
        parts[#parts + 1] = simple
        pos = stop + 2
      elseif e == "u" then
        local hex = s:sub(stop + 2, stop + 5)
        if not hex:match("^%x%x%x%x$") then fail("bad \\u escape") end
        local code = tonumber(hex, 16)
        pos = stop + 6
        if code >= 0xD800 and code <= 0xDBFF then
          local low = s:match("^\\u(%x%x%x%x)", pos)
          local low_code = low and tonumber(low, 16)
          if not low_code or low_code < 0xDC00 or low_code > 0xDFFF then fail("lone surrogate") end
          code = 0x10000 + (code - 0xD800) * 0x400 + (low_code - 0xDC00)
          pos = pos + 6
        elseif code >= 0xDC00 and code <= 0xDFFF then
          fail("lone surrogate")
        end
        parts[#parts + 1] = utf8_char(code)
      else
        fail("bad escape")
      end
    end
    return table.concat(parts)
  end
  function value()
    skip()
    local c = s:sub(pos, pos)
    if c == "{" then
      depth = depth + 1
      if depth > 200 then fail("nested too deep") end
      pos = pos + 1
      local t = json.object()
      skip()
      if s:sub(pos, pos) == "}" then pos = pos + 1; depth = depth - 1; return t end
      while true do
        skip()
        if s:sub(pos, pos) ~= '"' then fail("expected a key") end
        local k = str()
        skip()
        if s:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        t[k] = value()
        skip()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "}" then break end
        if d ~= "," then fail("expected ',' or '}'") end
      end
      depth = depth - 1
      return t
    elseif c == "[" then
      depth = depth + 1
      if depth > 200 then fail("nested too deep") end
      pos = pos + 1
      local t = json.array()
      skip()
      if s:sub(pos, pos) == "]" then pos = pos + 1; depth = depth - 1; return t end
      while true do
        t[#t + 1] = value()
        skip()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "]" then break end
        if d ~= "," then fail("expected ',' or ']'") end
      end
      depth = depth - 1
      return t
    elseif c == '"' then
      return str()
    elseif s:sub(pos, pos + 3) == "true" then
      pos = pos + 4; return true
    elseif s:sub(pos, pos + 4) == "false" then
      pos = pos + 5; return false
    elseif s:sub(pos, pos + 3) == "null" then
      pos = pos + 4; return json.null
    else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" or not num:match("^-?%d") or not tonumber(num) then fail("unexpected character") end
      pos = pos + #num
      return tonumber(num)
    end
  end
  local result = value()
  skip()
  if pos <= #s then fail("trailing characters") end
  return result
end

------------------------------------------------------------------------------ SHA-256, HMAC
local band, bor, bxor, bnot, rshift, lshift, ror, tobit = bit.band, bit.bor, bit.bxor, bit.bnot, bit.rshift,
  bit.lshift, bit.ror, bit.tobit
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
for i = 1, 64 do K[i] = tobit(K[i]) end

local function sha256_raw(msg)
  local h0, h1, h2, h3 = tobit(0x6a09e667), tobit(0xbb67ae85), tobit(0x3c6ef372), tobit(0xa54ff53a)
  local h4, h5, h6, h7 = tobit(0x510e527f), tobit(0x9b05688c), tobit(0x1f83d9ab), tobit(0x5be0cd19)
  local len = #msg
  local tail = msg:sub(len - len % 64 + 1) .. "\128" .. string.rep("\0", (55 - len % 64) % 64)
  local bits = len * 8
  local hi, lo = math.floor(bits / 4294967296), bits % 4294967296
  tail = tail .. string.char(band(rshift(hi, 24), 255), band(rshift(hi, 16), 255), band(rshift(hi, 8), 255),
                             band(hi, 255), band(rshift(lo, 24), 255), band(rshift(lo, 16), 255),
                             band(rshift(lo, 8), 255), band(lo, 255))
  local w = {}
  local function block(s, at)
    for i = 0, 15 do
      local a, b, c, d = s:byte(at + i * 4, at + i * 4 + 3)
      w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for i = 16, 63 do
      local x, y = w[i - 15], w[i - 2]
      local s0 = bxor(ror(x, 7), ror(x, 18), rshift(x, 3))
      local s1 = bxor(ror(y, 17), ror(y, 19), rshift(y, 10))
      w[i] = tobit(w[i - 16] + s0 + w[i - 7] + s1)
    end
    local a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
    for i = 0, 63 do
      local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
      local ch = bxor(band(e, f), band(bnot(e), g))
      local t1 = tobit(h + S1 + ch + K[i + 1] + w[i])
      local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
      local maj = bxor(band(a, b), band(a, c), band(b, c))
      local t2 = tobit(S0 + maj)
      h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + t2)
    end
    h0, h1, h2, h3 = tobit(h0 + a), tobit(h1 + b), tobit(h2 + c), tobit(h3 + d)
    h4, h5, h6, h7 = tobit(h4 + e), tobit(h5 + f), tobit(h6 + g), tobit(h7 + h)
  end
  for at = 1, len - len % 64, 64 do block(msg, at) end
  for at = 1, #tail, 64 do block(tail, at) end
  local out = {}
  for _, v in ipairs({h0, h1, h2, h3, h4, h5, h6, h7}) do
    out[#out + 1] = string.char(band(rshift(v, 24), 255), band(rshift(v, 16), 255), band(rshift(v, 8), 255),
                                band(v, 255))
  end
  return table.concat(out)
end

local function to_hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
M.to_hex = to_hex

function M.sha256_hex(msg) return to_hex(sha256_raw(msg)) end

function M.hmac_sha256_hex(key, msg)
  if #key > 64 then key = sha256_raw(key) end
  key = key .. string.rep("\0", 64 - #key)
  local ipad = key:gsub(".", function(c) return string.char(bxor(c:byte(), 0x36)) end)
  local opad = key:gsub(".", function(c) return string.char(bxor(c:byte(), 0x5c)) end)
  return to_hex(sha256_raw(opad .. sha256_raw(ipad .. msg)))
end

local function same_text(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = bor(diff, bxor(a:byte(i), b:byte(i))) end
  return diff == 0
end

------------------------------------------------------------------------------ the system (FFI)
if not pcall(ffi.typeof, "struct mb_pollfd") then  -- declared once per Lua state
ffi.cdef [[
typedef uint32_t mb_socklen_t;
struct mb_pollfd { int fd; short events; short revents; };
struct mb_timespec { long tv_sec; long tv_nsec; };
int socket(int domain, int type, int protocol);
int bind(int fd, const void *addr, mb_socklen_t len);
int listen(int fd, int backlog);
int accept(int fd, void *addr, mb_socklen_t *len);
int getsockname(int fd, void *addr, mb_socklen_t *len);
int setsockopt(int fd, int level, int name, const void *value, mb_socklen_t len);
long recv(int fd, void *buf, size_t len, int flags);
long send(int fd, const void *buf, size_t len, int flags);
int shutdown(int fd, int how);
int close(int fd);
int fcntl(int fd, int cmd, ...);
int poll(struct mb_pollfd *fds, unsigned long nfds, int timeout);
int getpid(void);
int kill(int pid, int sig);
int open(const char *path, int flags, ...);
long write(int fd, const void *buf, size_t len);
int fchmod(int fd, int mode);
int mkdir(const char *path, int mode);
int clock_gettime(int clock, struct mb_timespec *ts);
char *strerror(int errnum);
char *realpath(const char *path, char *resolved);
void free(void *ptr);
]]
end
-- stat(2), declared apart (its symbol differs per system); a failed binding leaves the fallback.
local stat_fn = nil
do
  local arch = ffi.arch
  local name = ffi.os == "OSX" and (arch == "x64" and "stat$INODE64" or "stat") or "stat"
  pcall(ffi.cdef, string.format('int mb_stat(const char *path, void *buf) __asm__("%s");', name))
  local found, fn = pcall(function() return ffi.C.mb_stat end)
  if found then stat_fn = fn end
end
--- Offset and width of st_mode in struct stat, per system (Linux x64: after dev, ino, nlink;
--- Linux arm64/generic: after dev, ino; macOS 64-bit-inode layout: after a 4-byte dev).
local MODE_AT = ffi.os == "OSX" and {4, 2} or (ffi.arch == "x64" and {24, 4} or {16, 4})
local S_IFMT, S_IFREG, S_IFDIR = 0xF000, 0x8000, 0x4000
local C = ffi.C
local OSX = ffi.os == "OSX"
-- Declaring the POSIX calls is harmless on Windows; M.main refuses to run there, so the
-- JSON codec still loads for the Lua launcher (which starts the panel on every system).
M.unsupported = ffi.os == "Windows" and "the Lua bridge runs on Linux and macOS; on Windows use the Python bridge "
  .. "(Workspace > Scripts > Utility > Montage AI Bridge) or the file route" or nil
local AF_INET, SOCK_STREAM = 2, 1
local POLLIN, POLLOUT, POLLERR, POLLHUP = 1, 4, 8, 16
local F_GETFL, F_SETFL = 3, 4
local O_NONBLOCK = OSX and 4 or 2048
local O_WRONLY, O_CREAT, O_EXCL = 1, OSX and 0x200 or 0x40, OSX and 0x800 or 0x80
local EAGAIN, EINTR = OSX and 35 or 11, 4
local SOL_SOCKET, SO_NOSIGPIPE = OSX and 0xffff or 1, 0x1022
local MSG_NOSIGNAL = OSX and 0 or 0x4000
local CLOCK_MONOTONIC = OSX and 6 or 1
local SHUT_WR = 1

local function now()
  local ts = ffi.new("struct mb_timespec")
  C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end
M.now = now

local function errtext() return ffi.string(C.strerror(ffi.errno())) end

local function sockaddr_loopback(port)
  local addr = ffi.new("uint8_t[16]")
  if OSX then addr[0] = 16; addr[1] = AF_INET else addr[0] = AF_INET; addr[1] = 0 end
  addr[2], addr[3] = bit.rshift(port, 8), bit.band(port, 255)     -- port, network order
  addr[4], addr[5], addr[6], addr[7] = 127, 0, 0, 1                -- 127.0.0.1
  return addr
end

local function set_nonblocking(fd)
  local flags = C.fcntl(fd, F_GETFL, ffi.new("int", 0))
  C.fcntl(fd, F_SETFL, ffi.new("int", bor(flags, O_NONBLOCK)))
  if OSX then
    C.setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, ffi.new("int[1]", 1), 4)
  end
end

local function listen_loopback()
  local fd = C.socket(AF_INET, SOCK_STREAM, 0)
  if fd < 0 then return nil, "socket: " .. errtext() end
  local addr = sockaddr_loopback(0)
  if C.bind(fd, addr, 16) ~= 0 then local e = errtext(); C.close(fd); return nil, "bind 127.0.0.1: " .. e end
  if C.listen(fd, 128) ~= 0 then local e = errtext(); C.close(fd); return nil, "listen: " .. e end
  local got, len = ffi.new("uint8_t[16]"), ffi.new("mb_socklen_t[1]", 16)
  C.getsockname(fd, got, len)
  set_nonblocking(fd)
  return fd, got[2] * 256 + got[3]
end

local function random_hex(bytes)
  local f = io.open("/dev/urandom", "rb")
  if not f then error("cannot read /dev/urandom for a secret") end
  local raw = f:read(bytes)
  f:close()
  if not raw or #raw ~= bytes then error("short read from /dev/urandom") end
  return to_hex(raw)
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

function M.read_bridge_file(path)
  local text = read_file(path)
  if not text then return nil end
  local ok, data = pcall(json.decode, text)
  if ok and type(data) == "table" and not is_array(data) then return data end
  return nil
end

local function make_dirs(folder)
  if folder == "" or folder == "/" then return end
  local f = io.open(folder, "rb")
  if f then f:close(); return end
  make_dirs(folder:match("^(.*)/[^/]*$") or "")
  C.mkdir(folder, tonumber("700", 8))
end

function M.write_bridge_file(path, info)
  make_dirs(path:match("^(.*)/[^/]*$") or "")
  local tmp = string.format("%s.%d.tmp", path, C.getpid())
  os.remove(tmp)
  local fd = C.open(tmp, bor(O_WRONLY, O_CREAT, O_EXCL), ffi.new("int", tonumber("600", 8)))
  if fd < 0 then error("cannot write " .. tmp .. ": " .. errtext()) end
  C.fchmod(fd, tonumber("600", 8))
  local text = json.encode(info) .. "\n"
  local written = C.write(fd, text, #text)
  C.close(fd)
  if written ~= #text then os.remove(tmp); error("cannot write " .. tmp) end
  local ok, err = os.rename(tmp, path)
  if not ok then os.remove(tmp); error("cannot replace " .. path .. ": " .. tostring(err)) end
end

function M.process_alive(pid)
  if type(pid) ~= "number" or pid <= 0 then return false end
  if C.kill(pid, 0) == 0 then return true end
  return ffi.errno() == 1  -- EPERM: it exists, another user's
end

function M.default_bridge_file()
  local env = os.getenv("MONTAGE_AI_RESOLVE_BRIDGE_FILE")
  if env and env ~= "" then return env end
  local home = os.getenv("HOME") or "."
  local base = OSX and (home .. "/Library/Application Support")
    or (os.getenv("XDG_CONFIG_HOME") ~= "" and os.getenv("XDG_CONFIG_HOME")) or (home .. "/.config")
  return base .. "/montage-ai/resolve-bridge.json"
end

------------------------------------------------------------------------------ Resolve calls
local function call(obj, method, ...)
  if obj == nil then return nil end
  local found, fn = pcall(function() return obj[method] end)
  if not found or type(fn) ~= "function" and type(fn) ~= "userdata" and type(fn) ~= "table" then return nil end
  local results = {pcall(fn, obj, ...)}
  if not results[1] then
    report(string.format("Resolve %s raised %s", method, tostring(results[2])))
    return nil
  end
  return results[2]
end

local function as_list(value)
  if type(value) ~= "table" then return {} end
  local keys = {}
  for k in pairs(value) do if type(k) == "number" then keys[#keys + 1] = k end end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = value[k] end
  return out
end

local function to_int(value)
  local n = tonumber(value)
  if n == nil then return nil end
  return n >= 0 and math.floor(n) or math.ceil(n)
end

local function text(value)
  if value == nil or value == json.null then return "" end
  return tostring(value)
end

local OpsError = {}
local function fail(message, code) error(setmetatable({message = message, code = code or "resolve"}, OpsError), 0) end

local PROJECT_SETTINGS = {"timelineFrameRate", "timelineResolutionWidth", "timelineResolutionHeight",
                          "timelinePlaybackFrameRate", "timelineDropFrameTimecode"}

local Ops = {}
Ops.__index = Ops

function M.new_ops(resolve)
  return setmetatable({resolve = resolve, clips = {}, bins = {}, timelines = {}, created = {}}, Ops)
end

function Ops:project_obj()
  local manager = call(self.resolve, "GetProjectManager")
  if not manager then fail("Resolve did not return its project manager (GetProjectManager); is it still running?") end
  local project = call(manager, "GetCurrentProject")
  if not project then fail("no project is open in Resolve: open one (the Project Manager has no Scripts menu)") end
  return project
end

function Ops:pool_obj()
  local pool = call(self:project_obj(), "GetMediaPool")
  if not pool then fail("Resolve did not return the media pool (Project.GetMediaPool)") end
  return pool
end

local function clip_key(item)
  local uid = call(item, "GetUniqueId")
  if uid and uid ~= "" then return tostring(uid) end
  return "anon:" .. text(call(item, "GetName")) .. "|" .. text(call(item, "GetClipProperty", "File Path"))
end

function Ops:remember_clip(item)
  local key = clip_key(item)
  self.clips[key] = item
  local props = json.object()
  local raw = call(item, "GetClipProperty")
  if type(raw) == "table" then for k, v in pairs(raw) do props[tostring(k)] = text(v) end end
  local name = call(item, "GetName")
  return json.object({id = key, name = (name and name ~= "") and tostring(name) or (props["Clip Name"] or ""),
                      properties = props})
end

function Ops:remember_bin(folder)
  local uid = call(folder, "GetUniqueId")
  local key = (uid and uid ~= "") and tostring(uid) or ("anon-bin:" .. text(call(folder, "GetName")))
  self.bins[key] = folder
  return key
end

function Ops:timeline_obj(id)
  local t = self.timelines[id]
  if not t then fail(string.format("unknown timeline id %q (not created or found in this session)", id)) end
  return t
end

function Ops:clip_obj(id)
  if not self.clips[id] then self:media_pool() end
  local c = self.clips[id]
  if not c then fail(string.format("no media-pool item with id %q", id)) end
  return c
end

function Ops:timeline_key(timeline)
  local uid = call(timeline, "GetUniqueId")
  local key = (uid and uid ~= "") and tostring(uid) or ("anon-timeline:" .. text(call(timeline, "GetName")))
  self.timelines[key] = timeline
  return key
end

function Ops:product()
  local name = call(self.resolve, "GetProductName")
  local version = call(self.resolve, "GetVersionString")
  if not version or version == "" then
    local parts = {}
    for _, p in ipairs(as_list(call(self.resolve, "GetVersion"))) do
      if tostring(p) ~= "" then parts[#parts + 1] = tostring(p) end
    end
    version = #parts > 0 and table.concat(parts, ".") or "unknown"
  end
  return json.object({name = (name and name ~= "") and tostring(name) or "DaVinci Resolve", version = tostring(version)})
end

function Ops:project()
  local project = self:project_obj()
  local settings = json.object()
  for _, key in ipairs(PROJECT_SETTINGS) do
    local value = call(project, "GetSetting", key)
    if value ~= nil and value ~= "" then settings[key] = tostring(value) end
  end
  return json.object({name = text(call(project, "GetName")), settings = settings})
end

function Ops:read_bin(folder)
  local key = self:remember_bin(folder)
  local clips, bins = json.array(), json.array()
  for _, item in ipairs(as_list(call(folder, "GetClipList"))) do clips[#clips + 1] = self:remember_clip(item) end
  for _, sub in ipairs(as_list(call(folder, "GetSubFolderList"))) do bins[#bins + 1] = self:read_bin(sub) end
  return json.object({id = key, name = text(call(folder, "GetName")), clips = clips, bins = bins})
end

function Ops:media_pool()
  local root = call(self:pool_obj(), "GetRootFolder")
  if not root then fail("Resolve did not return the media pool's root folder (MediaPool.GetRootFolder)") end
  return self:read_bin(root)
end

function Ops:current_bin_id()
  local folder = call(self:pool_obj(), "GetCurrentFolder")
  return folder and self:remember_bin(folder) or ""
end

function Ops:selected_clip_ids()
  local out = json.array()
  for _, item in ipairs(as_list(call(self:pool_obj(), "GetSelectedClips"))) do
    out[#out + 1] = self:remember_clip(item).id
  end
  return out
end

function Ops:import_media(paths)
  local out = json.array()
  for _, item in ipairs(as_list(call(self:pool_obj(), "ImportMedia", paths))) do
    out[#out + 1] = self:remember_clip(item)
  end
  return out
end

function Ops:link_proxy(clip_id, path)
  return call(self:clip_obj(clip_id), "LinkProxyMedia", path) and true or false
end

function Ops:set_clip_metadata(clip_id, metadata)
  local clip = self:clip_obj(clip_id)
  local keys = {}
  for k in pairs(metadata) do keys[#keys + 1] = k end
  table.sort(keys)
  local all = true
  for _, k in ipairs(keys) do
    if not call(clip, "SetMetadata", k, metadata[k]) then all = false end
  end
  return all
end

function Ops:timeline_names()
  local project = self:project_obj()
  local names = json.array()
  for i = 1, to_int(call(project, "GetTimelineCount")) or 0 do
    local t = call(project, "GetTimelineByIndex", i)
    if t then names[#names + 1] = text(call(t, "GetName")) end
  end
  return names
end

function Ops:create_timeline(name)
  local t = call(self:pool_obj(), "CreateEmptyTimeline", name)
  if not t then return json.null end
  local key = self:timeline_key(t)
  self.created[key] = true
  return key
end

function Ops:set_current_timeline(id)
  return call(self:project_obj(), "SetCurrentTimeline", self:timeline_obj(id)) and true or false
end

function Ops:delete_timeline(id)
  local t = self:timeline_obj(id)
  if not self.created[id] then
    fail(string.format("timeline %q was not created by Montage AI in this session: not deleted",
                       text(call(t, "GetName"))), "refused")
  end
  local done = call(self:pool_obj(), "DeleteTimelines", {t}) and true or false
  if done then self.timelines[id] = nil; self.created[id] = nil end
  return done
end

function Ops:timeline_name(id) return text(call(self:timeline_obj(id), "GetName")) end

function Ops:timeline_setting(id, key) return text(call(self:timeline_obj(id), "GetSetting", key)) end

function Ops:set_timeline_setting(id, key, value)
  return call(self:timeline_obj(id), "SetSetting", key, value) and true or false
end

function Ops:timeline_start_frame(id)
  local start = to_int(call(self:timeline_obj(id), "GetStartFrame"))
  if start == nil then fail(string.format("Resolve did not return the start frame of timeline %q", self:timeline_name(id))) end
  return start
end

function Ops:set_timeline_start_timecode(id, tc)
  return call(self:timeline_obj(id), "SetStartTimecode", tc) and true or false
end

function Ops:placed(item)
  local kind, index = "video", 1
  local where = as_list(call(item, "GetTrackTypeAndIndex"))
  if #where == 2 then kind, index = tostring(where[1]), to_int(where[2]) end
  local clip = call(item, "GetMediaPoolItem")
  local start = to_int(call(item, "GetStart")) or 0
  local stop = to_int(call(item, "GetEnd")) or 0
  local duration = to_int(call(item, "GetDuration"))
  local function opt(v) if v == nil then return json.null end return v end
  return json.object({
    id = text(call(item, "GetUniqueId")), name = text(call(item, "GetName")), track_type = kind, track_index = index,
    start = start, ["end"] = stop, duration = duration or (stop - start),
    source_start = opt(to_int(call(item, "GetSourceStartFrame"))),
    source_end = opt(to_int(call(item, "GetSourceEndFrame"))),
    left_offset = opt(to_int(call(item, "GetLeftOffset"))),
    clip_id = clip and clip_key(clip) or "",
    file_path = clip and text(call(clip, "GetClipProperty", "File Path")) or "",
  })
end

function Ops:append_clips(id, infos)
  local timeline = self:timeline_obj(id)
  local project = self:project_obj()
  local current = call(project, "GetCurrentTimeline")
  if not current or call(current, "GetUniqueId") ~= call(timeline, "GetUniqueId") then
    if not call(project, "SetCurrentTimeline", timeline) then
      fail(string.format("Resolve refused to make %q the current timeline", self:timeline_name(id)))
    end
  end
  local dicts = {}
  for _, info in ipairs(infos) do
    local d = {mediaPoolItem = self:clip_obj(info.clip_id), startFrame = info.start_frame, endFrame = info.end_frame,
               recordFrame = info.record_frame, trackIndex = info.track_index}
    if info.media_type ~= 0 then d.mediaType = info.media_type end
    dicts[#dicts + 1] = d
  end
  local out = json.array()
  for _, item in ipairs(as_list(call(self:pool_obj(), "AppendToTimeline", dicts))) do
    out[#out + 1] = self:placed(item)
  end
  return out
end

--- GetMarkers() of a timeline or clip ({frame: {color, duration, note, name, customData}}) as a list.
local function marker_list(raw)
  local frames = {}
  if type(raw) == "table" then for k in pairs(raw) do frames[#frames + 1] = k end end
  table.sort(frames, function(a, b) return tonumber(a) < tonumber(b) end)
  local out = json.array()
  for _, f in ipairs(frames) do
    local m = raw[f]
    out[#out + 1] = json.object({frame = to_int(f), color = text(m.color), name = text(m.name), note = text(m.note),
                                 duration = to_int(m.duration) or 1, custom_data = text(m.customData)})
  end
  return out
end

function Ops:clip_metadata(clip_id)
  local raw = call(self:clip_obj(clip_id), "GetMetadata")
  local out = json.object({})
  if type(raw) == "table" then for k, v in pairs(raw) do out[tostring(k)] = text(v) end end
  return out
end

function Ops:clip_color(clip_id) return text(call(self:clip_obj(clip_id), "GetClipColor")) end

--- Set the clip colour; "" clears it (ClearClipColor).
function Ops:set_clip_color(clip_id, color)
  if color == "" then return call(self:clip_obj(clip_id), "ClearClipColor") and true or false end
  return call(self:clip_obj(clip_id), "SetClipColor", color) and true or false
end

function Ops:clip_markers(clip_id) return marker_list(call(self:clip_obj(clip_id), "GetMarkers")) end

function Ops:add_clip_marker(clip_id, frame, color, name, note, duration, custom)
  return call(self:clip_obj(clip_id), "AddMarker", frame, color, name, note, duration, custom) and true or false
end

function Ops:delete_clip_marker(clip_id, custom)
  return call(self:clip_obj(clip_id), "DeleteMarkerByCustomData", custom) and true or false
end

function Ops:track_count(id, kind) return to_int(call(self:timeline_obj(id), "GetTrackCount", kind)) or 0 end

function Ops:track_items(id, kind, index)
  local out = json.array()
  for _, item in ipairs(as_list(call(self:timeline_obj(id), "GetItemListInTrack", kind, index))) do
    out[#out + 1] = self:placed(item)
  end
  return out
end

function Ops:add_marker(id, frame, color, name, note, duration, custom)
  return call(self:timeline_obj(id), "AddMarker", frame, color, name, note, duration, custom) and true or false
end

function Ops:markers(id) return marker_list(call(self:timeline_obj(id), "GetMarkers")) end

function Ops:import_timeline_file(path, name, bin_ids)
  local folders = {}
  for _, b in ipairs(bin_ids) do if self.bins[b] then folders[#folders + 1] = self.bins[b] end end
  local t = call(self:pool_obj(), "ImportTimelineFromFile", path,
                 {timelineName = name, importSourceClips = false, sourceClipsFolders = folders})
  if not t then return json.null end
  local key = self:timeline_key(t)
  self.created[key] = true
  return key
end

------------------------------------------------------------------------------ arguments
local function a_text(v, what) if type(v) ~= "string" then fail(what .. " must be a string", "bad-args") end return v end
local function a_whole(v, what)
  if type(v) ~= "number" or v % 1 ~= 0 then fail(what .. " must be a whole number", "bad-args") end
  return v
end
local function is_absolute(p) return p:sub(1, 1) == "/" or p:match("^%a:[\\/]") ~= nil end
--- The file a path names, through every symlink and "..": nil when it does not exist.
local function real_path(p)
  local got = C.realpath(p, nil)
  if got == nil then return nil end
  local out = ffi.string(got)
  C.free(got)
  return out
end
--- The file type bits of ``p`` (stat, never open: a FIFO must not block us); nil if unknown.
local function file_type(p)
  if not stat_fn then return nil end
  local buf = ffi.new("uint8_t[512]")
  if stat_fn(p, buf) ~= 0 then return nil end
  local at, width = MODE_AT[1], MODE_AT[2]
  local mode = width == 2 and ffi.cast("uint16_t *", buf + at)[0] or ffi.cast("uint32_t *", buf + at)[0]
  return band(tonumber(mode), S_IFMT)
end
local function has_suffix(p, suffixes)
  local lower = p:lower()
  for _, s in ipairs(suffixes) do if lower:sub(-#s) == s then return true end end
  return false
end

------------------------------------------------------------------------------ folders paths may lie in
--- Opt-in: path arguments must lie in these folders. ``$MONTAGE_AI_BRIDGE_FOLDERS`` (":" between
--- folders, ";" on Windows) or ``bridge-folders.json`` beside the bridge file
--- (``{"folders": [...]}``), as ``folder_setting`` in resolve_ops.py.
M.FOLDERS_ENV = "MONTAGE_AI_BRIDGE_FOLDERS"
M.FOLDERS_FILE = "bridge-folders.json"
local PATHSEP = package.config:sub(1, 1) == "\\" and ";" or ":"
--- nil: any folder; else the real paths of the folders allowed.
M.allowed_folders = nil

--- The folders the setting names; nil when nothing says (any folder), {} when the file is unreadable.
function M.folder_setting(bridge_file)
  local env = os.getenv(M.FOLDERS_ENV)
  if env and env:match("%S") then
    local out = {}
    for f in (env .. PATHSEP):gmatch("(.-)" .. PATHSEP) do if f:match("%S") then out[#out + 1] = f end end
    return out
  end
  local dir = bridge_file:match("^(.*)[/\\][^/\\]*$") or "."
  local path = dir .. "/" .. M.FOLDERS_FILE
  local text = read_file(path)
  if not text then return nil end
  local ok, data = pcall(json.decode, text)
  if not ok or type(data) ~= "table" or is_array(data) or type(data.folders) ~= "table" then
    report(path .. " has no list of folders: the bridge reads no file at all")
    return {}
  end
  local out = {}
  for _, f in ipairs(data.folders) do
    if type(f) ~= "string" then report(path .. " has no list of folders: the bridge reads no file at all"); return {} end
    out[#out + 1] = f
  end
  return out
end

--- Restrict path arguments to ``folders`` (through symlinks); nil lifts it. The real folders.
function M.restrict_to_folders(folders)
  if folders == nil then M.allowed_folders = nil; return nil end
  local real = {}
  for _, f in ipairs(folders) do
    local r = is_absolute(f) and real_path(f) or nil
    local kind = r and file_type(r)
    if r and (kind == nil or kind == S_IFDIR) then
      real[#real + 1] = r
    else
      report(string.format("bridge folder %q is not an existing absolute folder: left out", f))
    end
  end
  M.allowed_folders = real
  return real
end

local function inside(real, folders)
  for _, f in ipairs(folders) do
    local base = f:gsub("/+$", "")
    if real == f or real:sub(1, #base + 1) == base .. "/" then return true end
  end
  return false
end

--- An absolute path to a regular file of the kind the operation reads: no NUL byte; resolved
--- through symlinks, the file is a regular file (stat, not opened), both the name given
--- and the file it resolves to end in one of ``suffixes`` and, when the bridge is restricted
--- to folders, the file it resolves to lies in one of them. The rules of ``_file`` in resolve_ops.py.
local function a_file(v, what, suffixes)
  a_text(v, what)
  if v:find("\0", 1, true) then fail(string.format("%s %q holds a NUL byte", what, v), "bad-args") end
  if not is_absolute(v) then fail(string.format("%s %q is not an absolute path", what, v), "bad-args") end
  local real = real_path(v)
  if not real then fail(string.format("%s %q is not an existing file", what, v), "bad-args") end
  local kind = file_type(real)
  if kind == nil then
    -- No usable stat here: refuse what only devices and kernel files live under.
    if real:match("^/dev/") or real:match("^/proc/") or real:match("^/sys/") then kind = 0 else kind = S_IFREG end
  end
  if kind ~= S_IFREG then fail(string.format("%s %q is not a regular file", what, v), "bad-args") end
  for _, name in ipairs({v, real}) do
    if not has_suffix(name, suffixes) then
      fail(string.format("%s %q is not a %s (%s)", what, name, what, table.concat(suffixes, " ")), "bad-args")
    end
  end
  if M.allowed_folders and not inside(real, M.allowed_folders) then
    local list = table.concat(M.allowed_folders, PATHSEP)
    fail(string.format("%s %q is outside the folders this bridge may read (%s)", what, v, list ~= "" and list or "none"),
         "bad-args")
  end
  return v
end
local function a_list(v, what)
  if type(v) ~= "table" or not is_array(v) then fail(what .. " must be a list", "bad-args") end
  return v
end
local function a_texts(v, what)
  a_list(v, what)
  for _, x in ipairs(v) do a_text(x, what) end
  return v
end
local function a_track(v)
  if v ~= "video" and v ~= "audio" and v ~= "subtitle" then
    fail("track type must be one of video, audio, subtitle", "bad-args")
  end
  return v
end
local TIMELINE_SUFFIXES = {".xml", ".fcpxml", ".otio", ".edl", ".aaf", ".drt", ".adl"}
local VIDEO_SUFFIXES, MEDIA_SUFFIXES = {}, {}
for s in ([[.mov .mp4 .m4v .mxf .mkv .avi .mts .m2ts .ts .webm .mpg .mpeg .dv .wmv .3gp .braw .r3d .crm .ari
  .cine]]):gmatch("%S+") do VIDEO_SUFFIXES[#VIDEO_SUFFIXES + 1] = s; MEDIA_SUFFIXES[#MEDIA_SUFFIXES + 1] = s end
for s in ([[.wav .aif .aiff .mp3 .m4a .aac .flac .ogg .opus .bwf .png .jpg .jpeg .tif .tiff .exr .dpx
  .psd]]):gmatch("%S+") do MEDIA_SUFFIXES[#MEDIA_SUFFIXES + 1] = s end
local function a_infos(v)
  a_list(v, "infos")
  if #v == 0 then fail("infos must be a non-empty list", "bad-args") end
  local out = {}
  for _, info in ipairs(v) do
    if type(info) ~= "table" or is_array(info) then fail("each clip info must be an object", "bad-args") end
    local track, media = info.track_index, info.media_type
    if track == nil then track = 1 end
    if media == nil then media = 1 end
    out[#out + 1] = {clip_id = a_text(info.clip_id, "clip_id"), start_frame = a_whole(info.start_frame, "start_frame"),
                     end_frame = a_whole(info.end_frame, "end_frame"),
                     record_frame = a_whole(info.record_frame, "record_frame"),
                     track_index = a_whole(track, "track_index"), media_type = a_whole(media, "media_type")}
  end
  return out
end
local function a_metadata(v)
  if type(v) ~= "table" or getmetatable(v) == ARRAY or next(v) == nil then
    fail("metadata must be a non-empty object of strings", "bad-args")
  end
  for k, x in pairs(v) do a_text(k, "metadata key"); a_text(x, "metadata value") end
  return v
end
local function id_arg(name) return {name, function(v) return a_text(v, name) end} end
local function text_arg(name) return {name, function(v) return a_text(v, name) end} end
local function whole_arg(name) return {name, function(v) return a_whole(v, name) end} end

--- The operations served (and nothing else): name -> arguments in order, each with its check.
M.OPS = {
  product = {}, project = {}, media_pool = {}, current_bin_id = {}, selected_clip_ids = {}, timeline_names = {},
  import_media = {{"paths", function(v) a_texts(v, "paths"); for _, p in ipairs(v) do a_file(p, "media file", MEDIA_SUFFIXES) end
                                       return v end}},
  link_proxy = {id_arg("clip_id"), {"proxy_path", function(v) return a_file(v, "proxy", VIDEO_SUFFIXES) end}},
  set_clip_metadata = {id_arg("clip_id"), {"metadata", a_metadata}},
  clip_metadata = {id_arg("clip_id")},
  clip_color = {id_arg("clip_id")},
  set_clip_color = {id_arg("clip_id"), text_arg("color")},
  clip_markers = {id_arg("clip_id")},
  add_clip_marker = {id_arg("clip_id"), whole_arg("frame"), text_arg("color"), text_arg("name"), text_arg("note"),
                     whole_arg("duration"), text_arg("custom_data")},
  delete_clip_marker = {id_arg("clip_id"), text_arg("custom_data")},
  create_timeline = {text_arg("name")},
  set_current_timeline = {id_arg("timeline_id")},
  delete_timeline = {id_arg("timeline_id")},
  timeline_name = {id_arg("timeline_id")},
  timeline_setting = {id_arg("timeline_id"), text_arg("key")},
  set_timeline_setting = {id_arg("timeline_id"), text_arg("key"), text_arg("value")},
  timeline_start_frame = {id_arg("timeline_id")},
  set_timeline_start_timecode = {id_arg("timeline_id"), text_arg("timecode")},
  append_clips = {id_arg("timeline_id"), {"infos", a_infos}},
  track_count = {id_arg("timeline_id"), {"track_type", a_track}},
  track_items = {id_arg("timeline_id"), {"track_type", a_track}, whole_arg("index")},
  add_marker = {id_arg("timeline_id"), whole_arg("frame"), text_arg("color"), text_arg("name"), text_arg("note"),
                whole_arg("duration"), text_arg("custom_data")},
  markers = {id_arg("timeline_id")},
  import_timeline_file = {{"path", function(v) return a_file(v, "timeline file", TIMELINE_SUFFIXES) end},
                          text_arg("name"), {"bin_ids", function(v) return a_texts(v, "bin_ids") end}},
}

function M.checked_args(op, args)
  local spec = type(op) == "string" and M.OPS[op] or nil
  if not spec then fail(string.format("unknown operation %s", json.encode(op)), "unknown-op") end
  if type(args) ~= "table" or (getmetatable(args) == ARRAY and #args > 0) then fail("args must be an object", "bad-args") end
  local known = {}
  for _, a in ipairs(spec) do known[a[1]] = true end
  for k in pairs(args) do
    if not known[k] then fail(string.format("%s takes no argument %s", op, tostring(k)), "bad-args") end
  end
  local out = {}
  for i, a in ipairs(spec) do
    local value = args[a[1]]
    if value == nil or value == json.null then fail(string.format("%s needs the argument %s", op, a[1]), "bad-args") end
    out[i] = a[2](args[a[1]])
  end
  return out, #spec
end

--- Run one operation: true, result; or false, code, message.
function Ops:run(op, args)
  local ok, result = pcall(function()
    local checked, n = M.checked_args(op, args)
    return self[op](self, unpack(checked, 1, n))
  end)
  if ok then return true, result end
  if getmetatable(result) == OpsError then return false, result.code, result.message end
  return false, "internal", string.format("%s failed: %s", tostring(op), tostring(result))
end

------------------------------------------------------------------------------ the server
local Bridge = {}
Bridge.__index = Bridge

function M.new_bridge(resolve, bridge_file)
  return setmetatable({resolve = resolve, ops = M.new_ops(resolve), bridge_file = bridge_file, conns = {},
                       secret = random_hex(32), stopping = false, stop_reason = ""}, Bridge)
end

function Bridge:frame(message)
  local body = json.encode(message)
  local payload = M.hmac_sha256_hex(self.secret, body) .. body
  local n = #payload
  return string.char(band(rshift(n, 24), 255), band(rshift(n, 16), 255), band(rshift(n, 8), 255), band(n, 255))
    .. payload
end

function Bridge:stop(reason)
  if not self.stopping then self.stopping = true; self.stop_reason = reason end
end

function Bridge:start()
  local ok, product = pcall(function() return self.ops:product() end)
  self.product = ok and product or json.object({name = "", version = ""})
  local folders = M.restrict_to_folders(M.folder_setting(self.bridge_file))
  if folders then
    report("paths restricted to: " .. (#folders > 0 and table.concat(folders, ", ") or "no folder (every path is refused)"))
  end
  local old = M.read_bridge_file(self.bridge_file)
  if old and old.kind == "python" and M.process_alive(old.pid) and old.pid ~= C.getpid() then
    return false, string.format("the Python bridge (process %d) is running; it is preferred, so this Lua bridge "
                                .. "does not start", old.pid)
  end
  local fd, port = listen_loopback()
  if not fd then return false, port end
  self.listener, self.port = fd, port
  M.write_bridge_file(self.bridge_file, json.object({
    port = port, pid = C.getpid(), secret = self.secret, kind = M.KIND, protocol = M.PROTOCOL,
    product = self.product.name, version = self.product.version, python = "", executable = "",
    lua = jit and jit.version or _VERSION, started = os.date("!%Y-%m-%dT%H:%M:%S+0000")}))
  report(string.format("listening on 127.0.0.1:%d (%s, %s %s)%s", port, jit and jit.version or _VERSION,
                       self.product.name, self.product.version,
                       old and "; replaced the bridge started earlier" or ""))
  return true
end

function Bridge:accept()
  while true do
    local fd = C.accept(self.listener, nil, nil)
    if fd < 0 then return end
    set_nonblocking(fd)
    local count, waiting, oldest = 0, 0, nil
    for _, c in pairs(self.conns) do
      count = count + 1
      if c.seq == 0 and not c.closing then
        waiting = waiting + 1
        if not oldest or c.accepted < oldest.accepted then oldest = c end
      end
    end
    if oldest and (waiting >= M.MAX_UNAUTHENTICATED or count >= M.MAX_CLIENTS) then
      self:close_conn(oldest)  -- connections that never authenticate cannot hold the bridge
      count = count - 1
    end
    local conn = {fd = fd, chunks = {}, have = 0, need = nil, out = "", pos = 0, seq = 0, nonce = random_hex(16),
                  last = now(), accepted = now()}
    self.conns[fd] = conn
    if count >= M.MAX_CLIENTS then
      conn.out = self:frame(json.object({bridge = "montage-ai", protocol = M.PROTOCOL, ok = false, code = "busy",
                                         retry_after = 0.5, error = "busy: all connections are in use; retry"}))
      conn.closing = now() + 1.0
    else
      conn.out = self:frame(json.object({bridge = "montage-ai", protocol = M.PROTOCOL, kind = M.KIND, nonce = conn.nonce,
                                         pid = C.getpid(), product = self.product.name, version = self.product.version,
                                         python = "", executable = ""}))
    end
  end
end

function Bridge:close_conn(conn)
  C.close(conn.fd)
  self.conns[conn.fd] = nil
end

--- Answer with an error, then close: stop reading what follows (a too-large body is not read).
function Bridge:refuse(conn, code, message, seq)
  conn.out = conn.out .. self:frame(json.object({nonce = conn.nonce, seq = seq or json.null, ok = false, code = code,
                                                 error = message}))
  conn.closing = now() + 1.0
  conn.chunks, conn.have, conn.need = {}, 0, nil
end

function Bridge:handle(conn, payload)
  local mac, body = payload:sub(1, 64), payload:sub(65)
  if #payload < 64 or not same_text(mac, M.hmac_sha256_hex(self.secret, body)) then
    return self:refuse(conn, "auth", "wrong or missing signature")
  end
  local ok, message = pcall(json.decode, body)
  if not ok or type(message) ~= "table" or getmetatable(message) ~= OBJECT then
    return self:refuse(conn, "bad-json", "not a JSON object: " .. tostring(ok and "" or message))
  end
  if message.nonce ~= conn.nonce or message.seq ~= conn.seq + 1 then
    local seq = type(message.seq) == "number" and message.seq or nil
    return self:refuse(conn, "replay", "wrong nonce or sequence number: a replayed or out-of-order request", seq)
  end
  conn.seq = conn.seq + 1
  local reply = json.object({nonce = conn.nonce, seq = conn.seq})
  if message.op == "stop" then
    reply.ok, reply.result = true, true
    conn.out = conn.out .. self:frame(reply)
    conn.closing = now() + 1.0
    self.stop_after_flush = true
    return
  end
  local args = message.args
  if args == nil then args = json.object() end
  local done, a, b = self.ops:run(message.op, args)
  if done then
    reply.ok = true
    reply.result = a == nil and json.null or a
  else
    reply.ok, reply.code, reply.error = false, a, b
  end
  conn.out = conn.out .. self:frame(reply)
end

--- Split what has arrived into frames; the length prefix is checked before a body is kept.
function Bridge:parse(conn)
  while not conn.closing do
    if conn.need == nil then
      if conn.have < 4 then return end
      local s = table.concat(conn.chunks)
      conn.chunks = {s}
      local b1, b2, b3, b4 = s:byte(1, 4)
      local length = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
      if length > M.MAX_MESSAGE then
        return self:refuse(conn, "too-large", string.format("message of %d bytes is over the limit of %d", length,
                                                            M.MAX_MESSAGE))
      end
      if length < 64 then return self:refuse(conn, "auth", "message too short to be signed") end
      conn.need, conn.need_since = length, now()
    end
    if conn.have < 4 + conn.need then return end
    local s = table.concat(conn.chunks)
    local payload = s:sub(5, 4 + conn.need)
    local rest = s:sub(5 + conn.need)
    conn.chunks, conn.have, conn.need = {rest}, #rest, nil
    self:handle(conn, payload)
  end
end

function Bridge:receive(conn)
  local buf = ffi.new("uint8_t[65536]")
  while self.conns[conn.fd] == conn do
    local n = tonumber(C.recv(conn.fd, buf, 65536, 0))
    if n == 0 then return self:close_conn(conn) end
    if n < 0 then
      local e = ffi.errno()
      if e == EAGAIN or e == EINTR then return end
      return self:close_conn(conn)
    end
    conn.last = now()
    if not conn.closing then  -- after a refusal, what follows is read and dropped
      conn.chunks[#conn.chunks + 1] = ffi.string(buf, n)
      conn.have = conn.have + n
      self:parse(conn)
    end
  end
end

local function pending(conn) return #conn.out > conn.pos end

--- Send what is queued; ``conn.pos`` counts what has gone (no copy of the rest per partial send).
function Bridge:flush(conn)
  while pending(conn) do
    local n = tonumber(C.send(conn.fd, ffi.cast("const char *", conn.out) + conn.pos, #conn.out - conn.pos,
                              MSG_NOSIGNAL))
    if n < 0 then
      local e = ffi.errno()
      if e == EAGAIN or e == EINTR then return end
      return self:close_conn(conn)
    end
    conn.pos = conn.pos + n
  end
  conn.out, conn.pos = "", 0
  if conn.closing and not conn.shut then
    C.shutdown(conn.fd, SHUT_WR)
    conn.shut = true
  end
end

function Bridge:serve_forever()
  local last_watch, last_check, misses = 0, now(), 0
  while not self.stopping do
    local list = {self.listener}
    for fd in pairs(self.conns) do list[#list + 1] = fd end
    local fds = ffi.new("struct mb_pollfd[?]", #list)
    for i, fd in ipairs(list) do
      fds[i - 1].fd = fd
      fds[i - 1].events = POLLIN
      local conn = self.conns[fd]
      if conn and pending(conn) then fds[i - 1].events = bor(POLLIN, POLLOUT) end
    end
    C.poll(fds, #list, 200)
    for i = 0, #list - 1 do
      local fd, revents = fds[i].fd, fds[i].revents
      if fd == self.listener then
        if band(revents, POLLIN) ~= 0 then self:accept() end
      else
        local conn = self.conns[fd]
        if conn and band(revents, bor(POLLIN, POLLERR, POLLHUP)) ~= 0 then self:receive(conn) end
        conn = self.conns[fd]
        if conn and pending(conn) then self:flush(conn) end
      end
    end
    local t = now()
    for _, conn in pairs(self.conns) do
      if pending(conn) then self:flush(conn) end
      if self.conns[conn.fd] then
        if conn.closing and (t > conn.closing or (conn.shut and not pending(conn) and self.stop_after_flush)) then
          self:close_conn(conn)
        elseif not conn.closing and t - conn.last > M.IDLE_TIMEOUT then
          self:close_conn(conn)  -- a client that sends nothing
        elseif not conn.closing and conn.seq == 0 and t - conn.accepted > M.AUTH_DEADLINE then
          self:close_conn(conn)  -- one deadline for the whole first request, however it trickles
        elseif not conn.closing and conn.need and t - conn.need_since > M.BODY_DEADLINE then
          self:close_conn(conn)  -- a body that trickles
        end
      end
    end
    if self.stop_after_flush then
        local waiting = false
      for _, conn in pairs(self.conns) do if pending(conn) then waiting = true end end
      if not waiting then self:stop("asked to stop by a client") end
    end
    if t - last_watch > 0.25 then
      last_watch = t
      local current = M.read_bridge_file(self.bridge_file)
      if not current or current.secret ~= self.secret then
        self:stop("a newer bridge took over (or the bridge file was removed)")
      end
    end
    if t - last_check > 2.0 then
      last_check = t
      if call(self.resolve, "GetProjectManager") == nil then
        misses = misses + 1
        if misses >= 2 then self:stop("Resolve does not answer any more (it has quit)") end
      else
        misses = 0
      end
    end
  end
  self:close()
end

function Bridge:close()
  for _, conn in pairs(self.conns) do self:close_conn(conn) end
  if self.listener then C.close(self.listener); self.listener = nil end
  local current = M.read_bridge_file(self.bridge_file)
  if current and current.secret == self.secret then os.remove(self.bridge_file) end
  report("stopped: " .. self.stop_reason)
end

function M.main(resolve_object, bridge_file)
  if M.unsupported then
    report(M.unsupported)
    return 1
  end
  if resolve_object == nil then
    report("no resolve object: start this script from Resolve (Workspace > Scripts > Utility)")
    return 2
  end
  local path = bridge_file or (BRIDGE_FILE ~= "" and BRIDGE_FILE) or M.default_bridge_file()
  local bridge = M.new_bridge(resolve_object, path)
  local ok, err = bridge:start()
  if not ok then report(err); return 1 end
  bridge:serve_forever()
  return 0
end

if rawget(_G, "MONTAGE_BRIDGE_LIBRARY") then
  return M
end
local injected = rawget(_G, "resolve")
if injected == nil and rawget(_G, "Resolve") then injected = Resolve() end
if injected == nil and rawget(_G, "bmd") then injected = bmd.scriptapp("Resolve") end
M.main(injected)
return M
