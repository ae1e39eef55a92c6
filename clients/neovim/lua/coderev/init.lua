-- coderev for Neovim's built-in LSP client.
--
--   require("coderev").setup({
--     cmd = { "coderev", "serve" },          -- the server command, as a list
--     settings = { minSeverity = "medium" }, -- the server's `coderev` section (camelCase keys)
--   })
--
-- On Neovim 0.11+ the server is declared with vim.lsp.config and started by vim.lsp.enable;
-- on 0.8-0.10 (or with `use_lsp_config = false`) a FileType autocommand calls vim.lsp.start.

local M = {}

local SECTION = "coderev"
local NAME = "coderev"

M.defaults = {
  cmd = { "coderev", "serve" },
  settings = {},
  filetypes = { "python" },
  root_markers = { "pyproject.toml", "setup.cfg", "setup.py", ".git" },
  -- nil: use vim.lsp.config/enable when this Neovim has them; false: always vim.lsp.start.
  use_lsp_config = nil,
  on_init = nil,
  on_attach = nil,
  capabilities = nil,
  cmd_env = nil,
}

M.config = vim.deepcopy(M.defaults)

local augroup = nil

local function has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

--- The clients of the coderev server (optionally those attached to `bufnr`).
function M.clients(bufnr)
  local filter = { name = NAME, bufnr = bufnr }
  if vim.lsp.get_clients then
    return vim.lsp.get_clients(filter)
  end
  return vim.lsp.get_active_clients(filter)
end

--- Send a request through a client on every Neovim from 0.8 (method-call style on 0.11+).
local function request(client, method, params, handler, bufnr)
  if has("0.11") then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function notify(client, method, params)
  if has("0.11") then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- Whether vim.lsp.config / vim.lsp.enable will be used with the current options.
function M.uses_lsp_config()
  if M.config.use_lsp_config == false then
    return false
  end
  return vim.lsp.config ~= nil and vim.lsp.enable ~= nil
end

local function root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local start = name ~= "" and vim.fs.dirname(name) or (vim.uv or vim.loop).cwd()
  local found = vim.fs.find(M.config.root_markers, { upward = true, path = start })[1]
  return found and vim.fs.dirname(found) or start
end

-- The server pushes diagnostics (debounced, per version). Neovim 0.11 also pulls them when a server
-- offers textDocument/diagnostic and shows pulled and pushed ones in separate namespaces, so every
-- finding would appear twice. Declare no pull support and ignore the server's pull provider: push only.
local function capabilities()
  local caps = vim.deepcopy(M.config.capabilities or vim.lsp.protocol.make_client_capabilities())
  if caps.textDocument then
    caps.textDocument.diagnostic = nil
  end
  return caps
end

local function on_init(client, init_result)
  if client.server_capabilities then
    client.server_capabilities.diagnosticProvider = nil
  end
  if M.config.on_init then
    return M.config.on_init(client, init_result)
  end
end

-- This plugin takes diagnostics by push only (see capabilities()); Neovim 0.11 re-adds its default
-- pull capability, so tell the server explicitly rather than let it infer the mode.
local function section(settings)
  return vim.tbl_extend("keep", vim.deepcopy(settings or {}), { diagnosticMode = "push" })
end

local function client_config()
  local settings = section(M.config.settings)
  return {
    name = NAME,
    cmd = M.config.cmd,
    cmd_env = M.config.cmd_env,
    -- Answered from here when the server asks workspace/configuration for section "coderev".
    -- Not also sent as initializationOptions: the server layers those under the client's settings
    -- for the whole session, so a setting removed later by update_settings() would stick.
    settings = { [SECTION] = settings },
    capabilities = capabilities(),
    on_init = on_init,
    on_attach = M.config.on_attach,
  }
end

local function start(bufnr)
  if vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local config = client_config()
  config.root_dir = root_dir(bufnr)
  return vim.lsp.start(config, { bufnr = bufnr })
end

local function start_with_autocmd()
  vim.api.nvim_create_autocmd("FileType", {
    group = augroup,
    pattern = M.config.filetypes,
    callback = function(args)
      start(args.buf)
    end,
  })
  -- Buffers that were already open when setup() ran.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
      start(bufnr)
    end
  end
end

local function start_with_lsp_config()
  local config = client_config()
  config.filetypes = M.config.filetypes
  config.root_markers = M.config.root_markers
  vim.lsp.config(NAME, config)
  vim.lsp.enable(NAME)
end

--- A one-line summary of a command's answer ({applied, title}, {undone}, {folders}, {message} ...).
function M.summary(command, result)
  if type(result) == "string" then
    return result
  end
  if type(result) ~= "table" then
    return nil
  end
  if type(result.message) == "string" then
    return result.message
  end
  if result.applied == true then
    return "applied " .. (result.title or "the fix")
  elseif result.applied == false then
    return "not applied: " .. (result.reason or "the editor refused the edit")
  end
  if result.undone then
    return "undid fix " .. tostring(result.undone)
  end
  if type(result.folders) == "table" then
    local parts = {}
    for _, folder in ipairs(result.folders) do
      table.insert(parts, string.format("%s: %s", vim.fn.fnamemodify(folder.root or "?", ":t"),
        folder.summary or (folder.ok and "ok" or "failed")))
    end
    return "index " .. table.concat(parts, "; ")
  end
  return nil
end

--- Run a server command (workspace/executeCommand) for `bufnr`; `callback(err, result)` is optional.
function M.execute(command, arguments, bufnr, callback)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = M.clients(bufnr)[1] or M.clients()[1]
  if not client then
    vim.notify("coderev: the server is not running for this buffer", vim.log.levels.WARN)
    return false
  end
  request(client, "workspace/executeCommand", { command = command, arguments = arguments }, function(err, result)
    if err then
      vim.notify(string.format("coderev: %s failed: %s", command, err.message or vim.inspect(err)),
        vim.log.levels.ERROR)
    else
      local summary = M.summary(command, result)
      if summary then
        vim.notify("coderev: " .. summary, vim.log.levels.INFO)
      end
    end
    if callback then
      callback(err, result)
    end
  end, bufnr)
  return true
end

local function buffer_uri(bufnr)
  return vim.uri_from_bufnr(bufnr)
end

--- Apply every verified fix in the buffer (the server's coderev.fixAll command).
function M.fix_all(bufnr, callback)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return M.execute("coderev.fixAll", { { uri = buffer_uri(bufnr) } }, bufnr, callback)
end

--- Revert the last fix applied (coderev.undoFix); the server refuses if the file changed since.
function M.undo(bufnr, callback)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return M.execute("coderev.undoFix", { { uri = buffer_uri(bufnr) } }, bufnr, callback)
end

--- Bring the workspace index up to date (coderev.reindex); `rebuild` starts it afresh.
function M.reindex(rebuild, callback)
  return M.execute("coderev.reindex", { { rebuild = rebuild == true } }, nil, callback)
end

--- The fix journal (coderev.showHistory) in a scratch buffer.
function M.history(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return M.execute("coderev.showHistory", { { uri = buffer_uri(bufnr) } }, bufnr, function(err, result)
    if err or type(result) ~= "table" then
      return
    end
    local lines = { "coderev fix history: " .. tostring(result.journal or ""), "" }
    local entries = result.entries or {}
    for i = #entries, 1, -1 do
      local e = entries[i]
      local what = e.undoes ~= nil and e.undoes ~= vim.NIL and ("undo of " .. e.undoes)
        or (e.kind or "fix") .. (e.undone and " (undone)" or "")
      table.insert(lines, string.format("%s  %-14s %-28s %s  %s  [%s]", e.time or "", what, e["class"] or "",
        e.file or "", e.title or "", e.id or ""))
    end
    if #entries == 0 then
      table.insert(lines, "no fixes applied yet")
    end
    vim.cmd("botright new")
    local scratch = vim.api.nvim_get_current_buf()
    vim.bo[scratch].buftype = "nofile"
    vim.bo[scratch].bufhidden = "wipe"
    vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
    vim.bo[scratch].modifiable = false
  end)
end

--- Apply coderev's quick fix for the diagnostic under the cursor.
function M.fix()
  vim.lsp.buf.code_action({
    apply = true,
    context = { only = { "quickfix" } },
    filter = function(action, client_id)
      local client = client_id and vim.lsp.get_client_by_id and vim.lsp.get_client_by_id(client_id)
      return (client == nil or client.name == NAME) and action.kind == "quickfix"
    end,
  })
end

--- Replace the settings sent to the server; takes effect without a restart.
function M.update_settings(settings)
  M.config.settings = vim.deepcopy(settings or {})
  for _, client in ipairs(M.clients()) do
    client.settings = client.settings or {}
    client.settings[SECTION] = section(M.config.settings)
    if client.config then
      client.config.settings = client.settings
    end
    notify(client, "workspace/didChangeConfiguration", { settings = { [SECTION] = section(M.config.settings) } })
  end
  if M.uses_lsp_config() then
    vim.lsp.config(NAME, { settings = { [SECTION] = section(M.config.settings) } })
  end
end

local function create_commands()
  local command = vim.api.nvim_create_user_command
  command("CoderevFixAll", function()
    M.fix_all(0)
  end, { desc = "coderev: apply every verified fix in this buffer" })
  command("CoderevFix", function()
    M.fix()
  end, { desc = "coderev: apply the quick fix under the cursor" })
  command("CoderevUndo", function()
    M.undo(0)
  end, { desc = "coderev: undo the last fix" })
  command("CoderevReindex", function(args)
    M.reindex(args.bang)
  end, { bang = true, desc = "coderev: bring the workspace index up to date (! rebuilds it)" })
  command("CoderevHistory", function()
    M.history(0)
  end, { desc = "coderev: show the fix journal" })
end

--- Configure coderev and start it for Python buffers.
function M.setup(opts)
  if not has("0.8") then
    vim.notify("coderev needs Neovim 0.8 or newer (vim.lsp.start)", vim.log.levels.ERROR)
    return
  end
  opts = opts or {}
  for _, key in ipairs({ "cmd", "settings", "filetypes", "root_markers" }) do
    if opts[key] ~= nil and type(opts[key]) ~= "table" then
      error(string.format("coderev.setup: `%s` must be a list/table, got %s", key, type(opts[key])), 2)
    end
  end
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  if opts.cmd then -- lists are replaced, not merged index by index
    M.config.cmd = vim.deepcopy(opts.cmd)
  end
  if opts.settings then
    M.config.settings = vim.deepcopy(opts.settings)
  end
  augroup = vim.api.nvim_create_augroup("coderev", { clear = true })
  create_commands()
  if M.uses_lsp_config() then
    start_with_lsp_config()
  else
    start_with_autocmd()
  end
end

return M
