import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { describe as describeCommand, resolveInterpreter, serverCommand } from '../src/interpreter';

const linux = { platform: 'linux' as const, workspaceFolder: '/work/app', home: '/home/ada' };

describe('resolveInterpreter', () => {
  test('coderev.interpreter wins over the Python extension', () => {
    assert.deepEqual(
      resolveInterpreter({ ...linux, configured: '/opt/py/bin/python', pythonExtension: '/usr/bin/python3.11' }),
      { python: '/opt/py/bin/python', source: 'setting' },
    );
  });

  test("the Python extension's interpreter is used when the setting is empty", () => {
    assert.deepEqual(resolveInterpreter({ ...linux, configured: '  ', pythonExtension: '/work/app/.venv/bin/python' }), {
      python: '/work/app/.venv/bin/python',
      source: 'python-extension',
    });
  });

  test('python3 is the fallback (python on Windows)', () => {
    assert.deepEqual(resolveInterpreter({ ...linux }), { python: 'python3', source: 'default' });
    assert.deepEqual(resolveInterpreter({ platform: 'win32' }), { python: 'python', source: 'default' });
  });

  test('a relative setting is resolved against the workspace folder, variables and ~ are expanded', () => {
    assert.equal(resolveInterpreter({ ...linux, configured: '.venv/bin/python' }).python, '/work/app/.venv/bin/python');
    assert.equal(
      resolveInterpreter({ ...linux, configured: '${workspaceFolder}/env/bin/python' }).python,
      '/work/app/env/bin/python',
    );
    assert.equal(resolveInterpreter({ ...linux, configured: '~/envs/cr/bin/python' }).python, '/home/ada/envs/cr/bin/python');
  });

  test('a bare command name stays a PATH lookup', () => {
    assert.equal(resolveInterpreter({ ...linux, configured: 'python3.11' }).python, 'python3.11');
  });

  test('Windows paths', () => {
    assert.equal(
      resolveInterpreter({ platform: 'win32', workspaceFolder: 'C:\\work\\app', configured: '.venv\\Scripts\\python.exe' })
        .python,
      'C:\\work\\app\\.venv\\Scripts\\python.exe',
    );
  });
});

describe('serverCommand', () => {
  test('the coderev script next to the interpreter is preferred', () => {
    const exists = (file: string) => file === '/work/app/.venv/bin/coderev';
    const command = serverCommand({ python: '/work/app/.venv/bin/python', source: 'setting' }, exists, 'linux');
    assert.deepEqual(command, {
      command: '/work/app/.venv/bin/coderev',
      args: ['serve'],
      source: 'setting',
      python: '/work/app/.venv/bin/python',
    });
  });

  test('without the script: python -P -m server.cli serve (the workspace cannot shadow the package)', () => {
    const command = serverCommand({ python: '/usr/bin/python3', source: 'python-extension' }, () => false, 'linux', [
      '--stdio',
    ]);
    assert.equal(command.command, '/usr/bin/python3');
    assert.deepEqual(command.args, ['-P', '-m', 'server.cli', 'serve', '--stdio']);
  });

  test('a bare interpreter name is not probed for a sibling script', () => {
    let probed = false;
    const command = serverCommand({ python: 'python3', source: 'default' }, () => (probed = true), 'linux');
    assert.equal(probed, false);
    assert.deepEqual(command.args, ['-P', '-m', 'server.cli', 'serve']);
  });

  test('on Windows the script is coderev.exe in the same Scripts folder', () => {
    const exists = (file: string) => file === 'C:\\env\\Scripts\\coderev.exe';
    const command = serverCommand({ python: 'C:\\env\\Scripts\\python.exe', source: 'setting' }, exists, 'win32');
    assert.equal(command.command, 'C:\\env\\Scripts\\coderev.exe');
  });

  test('the description names the command and where the interpreter came from', () => {
    const command = serverCommand({ python: 'python3', source: 'default' }, () => false, 'linux');
    assert.equal(describeCommand(command), 'python3 -P -m server.cli serve (default, no interpreter configured)');
  });
});
