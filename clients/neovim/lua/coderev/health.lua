-- :checkhealth coderev
local M = {}

function M.check()
  local health = vim.health
  local start = health.start or health.report_start
  local ok = health.ok or health.report_ok
  local warn = health.warn or health.report_warn
  local error = health.error or health.report_error
  local coderev = require("coderev")

  start("coderev")
  if vim.fn.has("nvim-0.8") == 1 then
    ok("Neovim " .. tostring(vim.version()) .. (coderev.uses_lsp_config() and " (vim.lsp.config/enable)"
      or " (vim.lsp.start)"))
  else
    error("Neovim 0.8 or newer is needed")
  end
  local cmd = coderev.config.cmd or {}
  if cmd[1] and vim.fn.executable(cmd[1]) == 1 then
    ok("server command: " .. table.concat(cmd, " "))
  else
    error("server command not executable: " .. table.concat(cmd, " ")
      .. " (pip install coderev, or set `cmd` in require('coderev').setup())")
  end
  local clients = coderev.clients()
  if #clients > 0 then
    ok(string.format("%d coderev client(s) running", #clients))
  else
    warn("no coderev client running (open a Python file)")
  end
end

return M
