-- Drives `nnlens dap` from Neovim's nvim-dap, headless, and writes what it saw to $NNLENS_OUT.
-- Checks docs/debugging.md's configuration (test/debug/nvim-dap.test.ts runs it). By hand:
--   NNLENS_CLI=out/cli.js NNLENS_FILE=examples/digits.nn NNLENS_OUT=/tmp/out.txt \
--     nvim --headless -u NONE --cmd 'set packpath+=PATH_WITH_pack/*/start/nvim-dap' -c 'packloadall' -c 'luafile test/debug/nvim-dap-check.lua'
local dap = require('dap')
local out = {}
local function say(s) table.insert(out, s) end
local function finish(code)
  local f = io.open(os.getenv('NNLENS_OUT'), 'w')
  f:write(table.concat(out, '\n') .. '\n')
  f:close()
  vim.cmd(code == 0 and 'qa!' or 'cq!')
end

-- the configuration of docs/debugging.md
dap.adapters.nnlens = { type = 'executable', command = 'node', args = { os.getenv('NNLENS_CLI'), 'dap' } }
dap.configurations.nn = {
  { type = 'nnlens', request = 'launch', name = 'Step through one example', program = '${file}', example = 3, stopOnEntry = false },
}
vim.cmd('autocmd BufRead,BufNewFile *.nn setfiletype nn')

vim.cmd('edit ' .. os.getenv('NNLENS_FILE'))
vim.api.nvim_win_set_cursor(0, { 17, 2 }) -- z2 = W2 @ a1 + b2
dap.set_breakpoint()

local stops = 0
dap.listeners.after.event_stopped['nnlens-check'] = function(session, body)
  stops = stops + 1
  session:request('stackTrace', { threadId = body.threadId }, function(err1, st)
    local f = st.stackFrames[1]
    say(string.format('stopped (%s) at line %d: %s', body.reason, f.line, f.name))
    session:request('scopes', { frameId = f.id }, function(err2, sc)
      session:request('variables', { variablesReference = sc.scopes[1].variablesReference }, function(err3, vs)
        local names = {}
        for _, v in ipairs(vs.variables) do table.insert(names, v.name .. ' ' .. (v.type or '') .. ' = ' .. v.value) end
        say('  Values: ' .. table.concat(names, '; '))
        session:request('evaluate', { expression = 'W2 @ a1 + b2', frameId = f.id, context = 'repl' }, function(err4, ev)
          say('  evaluate W2 @ a1 + b2: ' .. (err4 and tostring(err4.message) or ev.result))
          if stops == 1 then
            dap.step_over()
          elseif stops == 2 then
            dap.continue() -- to the backward stop on the same line
          else
            dap.terminate()
          end
        end)
      end)
    end)
  end)
end
dap.listeners.after.event_terminated['nnlens-check'] = function()
  say('terminated')
  vim.defer_fn(function() finish(stops >= 3 and 0 or 1) end, 200)
end

dap.run(dap.configurations.nn[1])
vim.defer_fn(function() say('timed out'); finish(1) end, 60000)
