// The extension's launch and settings logic against the real server (not inside VS Code, which cannot
// run here): the command from resolveInterpreter/serverCommand starts `coderev serve`, and settings
// answered through workspace/configuration with toServerSettings change the diagnostics without a
// restart after the `settings: null` notification the extension sends.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import type { ConfigurationParams, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

import { resolveInterpreter, ServerCommand, serverCommand } from '../src/interpreter';
import { SECTION, toServerSettings } from '../src/settings';

const repo = path.resolve(__dirname, '..', '..', '..', '..'); // clients/vscode/out/unit -> repository
const venvPython = path.join(repo, '.venv', 'bin', 'python');
const skip = existsSync(venvPython) ? false : `no ${venvPython}: run make install at the repository root`;
const WAIT_MS = 30_000;

const BOTH =
  'import os\nimport pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n\n\n' +
  "def ping(host):\n    os.system('ping -c 1 ' + host)\n";

describe('the real server, started and configured the way the extension does', { skip }, () => {
  let workspace: string;
  let command: ServerCommand;
  let server: ChildProcess;
  let connection: MessageConnection;
  let stderr = '';
  // What the user set in VS Code (explicit values only, as explicitValue() reads them).
  const userValues: Record<string, unknown> = { modelEnabled: false, indexEnabled: false };
  const published: PublishDiagnosticsParams[] = [];
  const waiters: (() => void)[] = [];

  /** Resolve when a publishDiagnostics for `uri` satisfies `accept`; fail after WAIT_MS. */
  function diagnostics(uri: string, accept: (p: PublishDiagnosticsParams) => boolean): Promise<PublishDiagnosticsParams> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching diagnostics for ${uri}; got ${JSON.stringify(published)}\n${stderr}`)),
        WAIT_MS,
      );
      const check = () => {
        const found = published.find((p) => p.uri === uri && accept(p));
        if (found) {
          clearTimeout(timer);
          resolve(found);
          return true;
        }
        return false;
      };
      if (!check()) {
        waiters.push(() => void check());
      }
    });
  }

  before(async () => {
    workspace = mkdtempSync(path.join(os.tmpdir(), 'coderev-vscode-'));
    writeFileSync(path.join(workspace, 'pyproject.toml'), '[project]\nname = "demo"\nversion = "0"\n');
    command = serverCommand(
      resolveInterpreter({ configured: venvPython, platform: process.platform, workspaceFolder: workspace }),
      existsSync,
      process.platform,
    );
    server = spawn(command.command, command.args, {
      cwd: workspace,
      env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    connection = createMessageConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
    connection.onRequest('workspace/configuration', (params: ConfigurationParams) =>
      params.items.map((item) =>
        item.section === SECTION ? toServerSettings(userValues, { workspaceFolder: workspace }).settings : null,
      ),
    );
    connection.onRequest(() => null); // registerCapability, workDoneProgress/create, ...
    connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      published.push(params);
      waiters.splice(0).forEach((wake) => wake());
    });
    connection.onNotification(() => undefined);
    connection.listen();
    const folder = pathToFileURL(workspace).href;
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: folder,
      workspaceFolders: [{ uri: folder, name: 'demo' }],
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true }, workspaceFolders: true },
        textDocument: { publishDiagnostics: { versionSupport: true } },
      },
    });
    await connection.sendNotification('initialized', {});
  });

  after(async () => {
    try {
      await Promise.race([
        connection.sendRequest('shutdown', null),
        new Promise((resolve) => setTimeout(resolve, 5000).unref()),
      ]);
      await connection.sendNotification('exit');
    } finally {
      connection.dispose();
      server.kill();
      rmSync(workspace, { recursive: true, force: true });
    }
  });

  test('the resolved command is the coderev script of the configured interpreter', () => {
    assert.deepEqual([command.command, ...command.args], [path.join(repo, '.venv', 'bin', 'coderev'), 'serve']);
    assert.equal(command.source, 'setting');
  });

  test('settings changes reach the server through workspace/configuration, without a restart', async () => {
    const uri = pathToFileURL(path.join(workspace, 'app.py')).href;
    await connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'python', version: 1, text: BOTH },
    });
    const first = await diagnostics(uri, (p) => p.version === 1 && p.diagnostics.length > 0);
    assert.deepEqual(first.diagnostics.map((d) => d.code).sort(), ['command-injection', 'insecure-deserialization']);

    userValues.enabledClasses = ['command-injection'];
    userValues.minSeverity = 'severe'; // invalid: left out by toServerSettings, so it cannot break the rest
    published.length = 0;
    await connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
    const narrowed = await diagnostics(uri, (p) => p.diagnostics.length === 1);
    assert.deepEqual(narrowed.diagnostics.map((d) => d.code), ['command-injection']);
    assert.equal(server.exitCode, null, 'the server kept running');
  });
});
