-- A headless check of the language server from Neovim (docs/neovim.md):
--
--   nvim --headless -u NONE -c 'luafile scripts/neovim-check.lua' -- FILE.nn
--
-- Starts `node out/cli.js lsp --stdio` (build first), opens FILE.nn, waits for the engine's
-- diagnostics, asks for a hover on the first `param`, the code lenses and the inlay hints, and
-- writes what it got to stdout. Works with Neovim 0.7 (vim.lsp.start_client) and later.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
local file = vim.fn.fnamemodify(vim.v.argv[#vim.v.argv], ':p')
local lines = {}
local function say(s) lines[#lines + 1] = s end

vim.cmd('autocmd BufRead,BufNewFile *.nn setfiletype nn')
local client_id = vim.lsp.start_client({
  name = 'nnlens',
  cmd = { 'node', root .. '/out/cli.js', 'lsp', '--stdio' },
  root_dir = vim.fn.fnamemodify(file, ':h'),
})
vim.cmd('edit ' .. vim.fn.fnameescape(file))
vim.lsp.buf_attach_client(0, client_id)

-- The fast diagnostics come first; the engine's (gradient check, health) a moment later.
local function engine_diagnostics()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.source == 'nnlens' then return true end
  end
  return false
end
local t0 = vim.loop.hrtime()
vim.wait(5000, engine_diagnostics, 50)
vim.wait(1000, function() return false end, 100) -- and let a clean file settle
say(string.format('diagnostics after %d ms:', (vim.loop.hrtime() - t0) / 1e6))
for _, d in ipairs(vim.diagnostic.get(0)) do
  local code = d.user_data and d.user_data.lsp and d.user_data.lsp.code or d.code
  say(string.format('  line %d [%s] %s', d.lnum + 1, tostring(code), d.message))
end

local doc = vim.lsp.util.make_text_document_params()
local buf = vim.api.nvim_buf_get_lines(0, 0, -1, false)
for i, l in ipairs(buf) do
  local col = l:find('param ')
  if col then
    local res = vim.lsp.buf_request_sync(0, 'textDocument/hover', { textDocument = doc, position = { line = i - 1, character = col + 6 } }, 10000)
    for _, r in pairs(res or {}) do
      if r.result then say('hover on line ' .. i .. ' (' .. r.result.contents.kind .. '):\n' .. r.result.contents.value) end
    end
    break
  end
end
for _, r in pairs(vim.lsp.buf_request_sync(0, 'textDocument/codeLens', { textDocument = doc }, 5000) or {}) do
  for _, l in ipairs(r.result or {}) do say(string.format('code lens on line %d: %s', l.range.start.line + 1, l.command.title)) end
end
local range = { start = { line = 0, character = 0 }, ['end'] = { line = #buf, character = 0 } }
for _, r in pairs(vim.lsp.buf_request_sync(0, 'textDocument/inlayHint', { textDocument = doc, range = range }, 5000) or {}) do
  local s = {}
  for _, h in ipairs(r.result or {}) do s[#s + 1] = (h.position.line + 1) .. ':' .. h.label end
  say('inlay hints: ' .. table.concat(s, '  '))
end

io.stdout:write(table.concat(lines, '\n') .. '\n')
vim.cmd('qa!')
