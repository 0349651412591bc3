-- A real editor as the language client: Neovim's built-in LSP client
-- (0.7: vim.lsp.start_client + buf_attach_client) starts `qpc lsp`, opens a
-- policy, breaks a name, waits for the diagnostics, asks for a hover and a
-- definition, and writes what it got as JSON for the test to assert on.
-- Environment: QPC_CMD (JSON list), QPC_FILE (the policy), QPC_OUT (the result file).

local result = { log = {} }

local function find_line(bufnr, pattern)
  for i, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if l:match(pattern) then return i - 1, l end
  end
  return nil
end

local function main()
  local cmd = vim.fn.json_decode(os.getenv('QPC_CMD'))
  local file = os.getenv('QPC_FILE')
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = 'qpol'

  local client_id = vim.lsp.start_client({
    name = 'qpc',
    cmd = cmd,
    root_dir = vim.fn.fnamemodify(file, ':h'),
    flags = { debounce_text_changes = 20 },
    on_exit = function(code) result.server_exit = code end,
  })
  result.client_id = client_id
  if not client_id then error('the client did not start') end
  vim.lsp.buf_attach_client(bufnr, client_id)
  result.initialized = vim.wait(30000, function()
    local c = vim.lsp.get_client_by_id(client_id)
    return c ~= nil and c.initialized == true
  end, 20)

  -- Break a name: `via sys-firewall` becomes `via sys-firewal` (unsaved).
  local line, text = find_line(bufnr, 'via sys%-firewall')
  result.error_line = line
  vim.api.nvim_buf_set_lines(bufnr, line, line + 1, false, { (text:gsub('sys%-firewall', 'sys-firewal')) })

  local function lsp_code(d)
    return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  end
  result.got_diagnostics = vim.wait(30000, function()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if lsp_code(d) == 'QP2001' then return true end
    end
    return false
  end, 20)
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(result.diagnostics, { code = lsp_code(d), lnum = d.lnum, col = d.col, end_col = d.end_col, severity = d.severity, source = d.source, message = d.message })
  end

  local uri = vim.uri_from_bufnr(bufnr)
  -- Hover on the name of a qube declaration.
  local qline, qtext = find_line(bufnr, '^qube source%-inbox in ')
  local hover = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', { textDocument = { uri = uri }, position = { line = qline, character = 6 } }, 20000)
  result.hover = hover and hover[client_id] and hover[client_id].result or vim.NIL
  -- Definition of the identity after `in`.
  local col = qtext:find(' in ', 1, true) + 4
  local def = vim.lsp.buf_request_sync(bufnr, 'textDocument/definition', { textDocument = { uri = uri }, position = { line = qline, character = col } }, 20000)
  result.definition = def and def[client_id] and def[client_id].result or vim.NIL
  result.identity_line = find_line(bufnr, '^identity source%-contact ')
  result.uri = uri

  vim.lsp.stop_client(client_id)
  vim.wait(5000, function() return result.server_exit ~= nil end, 20)
end

local ok, err = pcall(main)
if not ok then result.error = tostring(err) end
vim.fn.writefile({ vim.fn.json_encode(result) }, os.getenv('QPC_OUT'))
vim.cmd('qa!')
