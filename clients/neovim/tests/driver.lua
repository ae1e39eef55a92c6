-- Drives the coderev plugin in a headless Neovim against the real server, for tests/test_neovim_client.py.
--
-- Run as: nvim --headless -u NONE -i NONE -n -l driver.lua
-- Inputs (environment): CODEREV_PLUGIN (the clients/neovim folder), CODEREV_CMD (JSON list: the server
-- command), CODEREV_FILE (the Python file to open), CODEREV_SCENARIO, CODEREV_USE_LSP_CONFIG ("0" forces
-- the vim.lsp.start path), CODEREV_SETTINGS (JSON object, optional), CODEREV_RESULT (where to write JSON),
-- CODEREV_SETTINGS_AFTER (JSON object, for update_settings), CODEREV_TIMEOUT_MS (bound of every wait).
-- The script records what it observed into CODEREV_RESULT; the Python test makes the assertions.

local env = vim.env
local result = { steps = {}, nvim = tostring(vim.version()) }
local timeout = tonumber(env.CODEREV_TIMEOUT_MS or "30000")

vim.opt.rtp:prepend(env.CODEREV_PLUGIN)
vim.cmd("filetype on")

local function write_result()
  local handle = assert(io.open(env.CODEREV_RESULT, "w"))
  handle:write(vim.json.encode(result))
  handle:close()
end

local function step(name, value)
  table.insert(result.steps, name)
  result[name] = value
end

local published = 0
vim.api.nvim_create_autocmd("DiagnosticChanged", {
  callback = function()
    published = published + 1
  end,
})

local function coderev_diagnostics(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == "coderev" then
      table.insert(out, {
        code = d.code,
        lnum = d.lnum,
        col = d.col,
        end_lnum = d.end_lnum,
        end_col = d.end_col,
        message = d.message,
        severity = d.severity,
        namespace = (vim.diagnostic.get_namespace(d.namespace) or {}).name,
      })
    end
  end
  table.sort(out, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col)
  end)
  return out
end

local function codes(bufnr)
  local out = {}
  for _, d in ipairs(coderev_diagnostics(bufnr)) do
    out[d.code] = true
  end
  return out
end

--- Wait (bounded) until `condition()` holds; records a timeout instead of raising.
local function wait_for(label, condition)
  local ok = vim.wait(timeout, condition, 20)
  if not ok then
    error("timed out after " .. timeout .. " ms waiting for " .. label)
  end
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
end

local function open_file()
  vim.cmd("edit " .. vim.fn.fnameescape(env.CODEREV_FILE))
  local bufnr = vim.api.nvim_get_current_buf()
  step("filetype", vim.bo[bufnr].filetype)
  return bufnr
end

local function setup()
  local coderev = require("coderev")
  local opts = { cmd = vim.json.decode(env.CODEREV_CMD) }
  if env.CODEREV_USE_LSP_CONFIG == "0" then
    opts.use_lsp_config = false
  end
  if env.CODEREV_SETTINGS and env.CODEREV_SETTINGS ~= "" then
    opts.settings = vim.json.decode(env.CODEREV_SETTINGS)
  end
  coderev.setup(opts)
  step("uses_lsp_config", coderev.uses_lsp_config())
  step("own_filetype_autocmds", #vim.api.nvim_get_autocmds({ group = "coderev", event = "FileType" }))
  local commands = vim.api.nvim_get_commands({})
  step("user_commands", {
    CoderevFixAll = commands.CoderevFixAll ~= nil,
    CoderevUndo = commands.CoderevUndo ~= nil,
    CoderevReindex = commands.CoderevReindex ~= nil,
  })
  return coderev
end

local function attached(coderev, bufnr)
  wait_for("the coderev client to attach", function()
    return #coderev.clients(bufnr) > 0
  end)
  local client = coderev.clients(bufnr)[1]
  wait_for("the server to initialize", function()
    return client.initialized == true or client.server_capabilities ~= nil
  end)
  step("client", {
    name = client.name,
    root_dir = client.config.root_dir or client.root_dir,
    cmd = client.config.cmd,
    offset_encoding = client.offset_encoding,
    execute_commands = (client.server_capabilities.executeCommandProvider or {}).commands or {},
    code_action_provider = client.server_capabilities.codeActionProvider ~= nil,
  })
  return client
end

local scenarios = {}

--- Open the vulnerable file and wait for coderev's diagnostic.
function scenarios.diagnostics()
  local coderev = setup()
  local bufnr = open_file()
  attached(coderev, bufnr)
  wait_for("a coderev diagnostic", function()
    return #coderev_diagnostics(bufnr) > 0
  end)
  step("diagnostics", coderev_diagnostics(bufnr))
end

--- Settings from setup() reach the server; update_settings() changes them without a restart.
function scenarios.settings()
  local coderev = setup()
  local bufnr = open_file()
  local client = attached(coderev, bufnr)
  wait_for("the command-injection diagnostic", function()
    return codes(bufnr)["command-injection"] == true
  end)
  step("diagnostics_with_settings", coderev_diagnostics(bufnr))
  coderev.update_settings(vim.json.decode(env.CODEREV_SETTINGS_AFTER or "{}"))
  wait_for("the deserialization diagnostic after update_settings", function()
    return codes(bufnr)["insecure-deserialization"] == true
  end)
  step("diagnostics_after_update", coderev_diagnostics(bufnr))
  step("same_client", coderev.clients(bufnr)[1].id == client.id)
end

--- Apply the quick fix for the diagnostic through :CoderevFix (vim.lsp.buf.code_action, apply = true).
function scenarios.quickfix()
  local coderev = setup()
  local bufnr = open_file()
  attached(coderev, bufnr)
  wait_for("a coderev diagnostic", function()
    return #coderev_diagnostics(bufnr) > 0
  end)
  local before = buffer_text(bufnr)
  local diagnostic = coderev_diagnostics(bufnr)[1]
  step("diagnostics", coderev_diagnostics(bufnr))
  vim.api.nvim_win_set_cursor(0, { diagnostic.lnum + 1, diagnostic.col })
  vim.cmd("CoderevFix")
  wait_for("the quick fix to change the buffer", function()
    return buffer_text(bufnr) ~= before
  end)
  step("text_after_fix", buffer_text(bufnr))
  wait_for("the diagnostic to clear after the fix", function()
    return codes(bufnr)["insecure-deserialization"] == nil
  end)
  step("diagnostics_after_fix", coderev_diagnostics(bufnr))
  -- the fix's command (coderev.recordFix) journals it once the server sees the fixed text
  local journal = vim.fs.dirname(env.CODEREV_FILE) .. "/.coderev/history.jsonl"
  wait_for("the fix to be journaled", function()
    local stat = (vim.uv or vim.loop).fs_stat(journal)
    return stat ~= nil and stat.size > 0
  end)
  step("journal", vim.fn.readfile(journal))
end

--- :CoderevFixAll fixes the buffer, :CoderevUndo restores it.
function scenarios.fixall_undo()
  local coderev = setup()
  local bufnr = open_file()
  attached(coderev, bufnr)
  wait_for("a coderev diagnostic", function()
    return #coderev_diagnostics(bufnr) > 0
  end)
  local before = buffer_text(bufnr)
  local before_count = #coderev_diagnostics(bufnr)
  step("text_before", before)
  vim.cmd("CoderevFixAll")
  wait_for(":CoderevFixAll to change the buffer", function()
    return buffer_text(bufnr) ~= before
  end)
  step("text_after_fix_all", buffer_text(bufnr))
  wait_for("the diagnostics to clear after :CoderevFixAll", function()
    return #coderev_diagnostics(bufnr) == 0
  end)
  vim.cmd("CoderevUndo")
  wait_for(":CoderevUndo to restore the buffer", function()
    return buffer_text(bufnr) == before
  end)
  step("text_after_undo", buffer_text(bufnr))
  -- the undo may reach the buffer as several edits: wait for the restored text's diagnostics, not the first ones
  wait_for("the diagnostics of the restored text after :CoderevUndo", function()
    return #coderev_diagnostics(bufnr) == before_count
  end)
  step("diagnostics_after_undo", coderev_diagnostics(bufnr))
  vim.cmd("CoderevHistory")
  local history = nil
  wait_for(":CoderevHistory to show the journal", function()
    for _, other in ipairs(vim.api.nvim_list_bufs()) do
      if other ~= bufnr and vim.api.nvim_buf_is_loaded(other) then
        local lines = vim.api.nvim_buf_get_lines(other, 0, -1, false)
        if lines[1] and lines[1]:find("coderev fix history", 1, true) then
          history = lines
          return true
        end
      end
    end
    return false
  end)
  step("history", history)
end

local ok, err = xpcall(function()
  local scenario = scenarios[env.CODEREV_SCENARIO]
  if not scenario then
    error("unknown scenario " .. tostring(env.CODEREV_SCENARIO))
  end
  scenario()
end, debug.traceback)
if not ok then
  result.error = err
end
result.published = published
write_result()
for _, client in ipairs(require("coderev").clients()) do
  if vim.fn.has("nvim-0.11") == 1 then
    client:stop()
  else
    client.stop()
  end
end
vim.wait(3000, function()
  return #require("coderev").clients() == 0
end, 20)
vim.cmd(ok and "qall!" or "cquit! 1")
