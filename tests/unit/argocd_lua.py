"""A Lua 5.1 interpreter that offers a script exactly what Argo CD offers a custom health check.

Argo CD (util/lua/lua.go, runLuaWithResourceActionParameters) makes a new gopher-lua state per
run with SkipOpenLibs, opens only package, base and table, and sets the globals `obj` and
`actionParams`. It also calls OpenSafeOs (util/lua/oslib_safe.go), but that registers its
functions under the name "table", which is loaded by then, so gopher-lua's RegisterModule
returns the table library unchanged: there is no global `os`. The only way to the time is
`require("os")`, preloaded with SafeOsLoader: a table with just `time` and `date`. With no
string library, strings have no methods; with no math, io, os, coroutine or debug library,
those names are nil. Custom checks in argocd-cm run like this unless
`resource.customizations.useOpenLibs.<group>_<kind>` is set, which our docs don't ask for.

Here a fresh lupa runtime is cut down to that, once per run as in Argo CD, so state left by one
script cannot reach the next. Left out on purpose: gopher-lua's own debugging extras
(`_printregs`, `_GOPHER_LUA_VERSION`), the 1 s time limit, and require's search of files on
package.path (nothing there in Argo CD's image; here it would depend on the host). `os.date`
is real Lua's, which knows more formats than Argo CD's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lupa import lua51

_ARGOCD_VM = """
local keep = {}
for _, name in ipairs({
  -- gopher-lua's base library (baselib.go), which carries require and module too
  "_G", "_VERSION", "assert", "collectgarbage", "dofile", "error", "getfenv", "getmetatable",
  "ipairs", "load", "loadfile", "loadstring", "module", "newproxy", "next", "pairs", "pcall",
  "print", "rawequal", "rawget", "rawset", "require", "select", "setfenv", "setmetatable",
  "tonumber", "tostring", "type", "unpack", "xpcall",
  "package", "table",
}) do
  keep[name] = true
end
local table_functions = { concat = true, getn = true, insert = true, maxn = true, remove = true, sort = true }
local os_time, os_date, assert, loadstring = os.time, os.date, assert, loadstring

-- Without gopher-lua's string library a string has no metatable, so no methods.
debug.setmetatable("", nil)
local function cut(library, wanted)
  local unwanted = {}
  for name in pairs(library) do
    if not wanted[name] then
      unwanted[#unwanted + 1] = name
    end
  end
  for _, name in ipairs(unwanted) do
    library[name] = nil
  end
end
cut(_G, keep)  -- also removes lupa's `python`
cut(table, table_functions)
cut(package.loaded, { _G = true, table = true })
while #package.loaders > 1 do  -- keep only the package.preload searcher
  table.remove(package.loaders)
end
cut(package.preload, {})
package.preload.os = function()
  return { time = os_time, date = os_date }
end
actionParams = {}

return function(source, name, object)
  local chunk = assert(loadstring(source, "=" .. name))
  obj = object
  return chunk()
end
"""


def run(source: str, name: str, obj: Mapping[str, Any]) -> Any:
    """What `source` returns when Argo CD runs it as a custom health check on `obj`."""
    runtime = lua51.LuaRuntime(register_eval=False, register_builtins=False)
    script = runtime.execute(_ARGOCD_VM)
    return script(source, name, runtime.table_from(obj, recursive=True))
