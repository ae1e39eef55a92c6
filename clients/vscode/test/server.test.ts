// The extension's launch, settings and command logic against the real server, under node (VS Code
// itself cannot run here): the command from resolveInterpreter/serverCommand starts `coderev serve`;
// settings answered through workspace/configuration with toServerSettings change the diagnostics
// without a restart after the `settings: null` notification the extension sends; the arguments the
// extension's commands send (src/commands.ts) are accepted, and their answers render.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type {
  ApplyWorkspaceEditParams,
  ConfigurationParams,
  PublishDiagnosticsParams,
  TextDocumentEdit,
  TextEdit,
} from 'vscode-languageserver-protocol';
import {
  createMessageConnection,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';

import * as calls from '../src/commands';
import { renderHistory } from '../src/history';
import { resolveInterpreter, ServerCommand, serverCommand } from '../src/interpreter';
import { summarize } from '../src/results';
import { SECTION, toServerSettings } from '../src/settings';
import { MODEL_STATUS, parseModelStatus, statusView } from '../src/status';

const repo = path.resolve(__dirname, '..', '..', '..', '..'); // clients/vscode/out/unit -> repository
const venvPython = path.join(repo, '.venv', 'bin', 'python');
const skip = existsSync(venvPython) ? false : `no ${venvPython}: run make install at the repository root`;
const WAIT_MS = 30_000;

const PICKLE = 'import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n';
const BOTH = "import os\n\n\ndef ping(host):\n    os.system('ping -c 1 ' + host)\n";

/** Offsets of LSP positions in `text` (UTF-16 code units, the default position encoding). */
function offsetAt(text: string, line: number, character: number): number {
  let offset = 0;
  for (let i = 0; i < line; i++) {
    offset = text.indexOf('\n', offset) + 1;
  }
  return offset + character;
}

function applyEdits(text: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort(
    (a, b) => offsetAt(text, b.range.start.line, b.range.start.character) - offsetAt(text, a.range.start.line, a.range.start.character),
  );
  let out = text;
  for (const edit of sorted) {
    const start = offsetAt(out, edit.range.start.line, edit.range.start.character);
    const end = offsetAt(out, edit.range.end.line, edit.range.end.character);
    out = out.slice(0, start) + edit.newText + out.slice(end);
  }
  return out;
}

describe('the real server, started, configured and commanded the way the extension does', { skip }, () => {
  let workspace: string;
  let command: ServerCommand;
  let server: ChildProcess;
  let connection: MessageConnection;
  let stderr = '';
  // What the user set in VS Code (explicit values only, as explicitValue() reads them).
  const userValues: Record<string, unknown> = { modelEnabled: false, indexEnabled: false };
  const documents = new Map<string, { text: string; version: number }>();
  const published: PublishDiagnosticsParams[] = [];
  const waiters: (() => void)[] = [];
  let firstModelStatus: (params: unknown) => void = () => undefined;
  const modelStatus = new Promise<unknown>((resolve) => (firstModelStatus = resolve));

  /** Resolve when a publishDiagnostics for `uri` satisfies `accept`; fail after WAIT_MS. */
  function diagnostics(uri: string, accept: (p: PublishDiagnosticsParams) => boolean): Promise<PublishDiagnosticsParams> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching diagnostics for ${uri}; got ${JSON.stringify(published)}\n${stderr}`)),
        WAIT_MS,
      );
      const check = (): boolean => {
        const found = published.find((p) => p.uri === uri && accept(p));
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
        return found !== undefined;
      };
      if (!check()) {
        const waiter = (): void => {
          if (!check()) {
            waiters.push(waiter); // not this one yet: keep waiting
          }
        };
        waiters.push(waiter);
      }
    });
  }

  async function open(name: string, text: string): Promise<string> {
    const uri = pathToFileURL(path.join(workspace, name)).href;
    writeFileSync(path.join(workspace, name), text);
    documents.set(uri, { text, version: 1 });
    await connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'python', version: 1, text },
    });
    return uri;
  }

  /** workspace/applyEdit as VS Code does it: refuse a TextDocumentEdit for another version. */
  async function applyEdit(params: ApplyWorkspaceEditParams): Promise<{ applied: boolean; failureReason?: string }> {
    const changes = (params.edit.documentChanges ?? []) as TextDocumentEdit[];
    for (const change of changes) {
      const doc = documents.get(change.textDocument.uri);
      if (!doc || (change.textDocument.version !== null && change.textDocument.version !== doc.version)) {
        return { applied: false, failureReason: `version mismatch for ${change.textDocument.uri}` };
      }
    }
    for (const change of changes) {
      const doc = documents.get(change.textDocument.uri)!;
      doc.text = applyEdits(doc.text, change.edits);
      doc.version += 1;
      await connection.sendNotification('textDocument/didChange', {
        textDocument: { uri: change.textDocument.uri, version: doc.version },
        contentChanges: [{ text: doc.text }],
      });
    }
    return { applied: true };
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
    connection.onRequest('workspace/applyEdit', applyEdit);
    connection.onRequest(() => null); // registerCapability, workDoneProgress/create, ...
    connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      published.push(params);
      waiters.splice(0).forEach((wake) => wake());
    });
    connection.onNotification(MODEL_STATUS, (params: unknown) => firstModelStatus(params));
    connection.onNotification(() => undefined);
    connection.listen();
    const folder = pathToFileURL(workspace).href;
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: folder,
      workspaceFolders: [{ uri: folder, name: 'demo' }],
      capabilities: {
        workspace: {
          configuration: true,
          applyEdit: true,
          workspaceEdit: { documentChanges: true },
          didChangeConfiguration: { dynamicRegistration: true },
          workspaceFolders: true,
        },
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

  test('the model status the server sends (model turned off here) reaches the status bar item', async () => {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${MODEL_STATUS}\n${stderr}`)),
      WAIT_MS).unref());
    const model = parseModelStatus(await Promise.race([modelStatus, timeout]));
    assert.deepEqual(model, { state: 'off' });
    assert.equal(statusView({ kind: 'running' }, '', model).text, '$(shield) coderev (rules)');
  });

  test('fix all, undo and history with the arguments the extension sends', async () => {
    const uri = await open('loader.py', PICKLE);
    await diagnostics(uri, (p) => p.version === 1 && p.diagnostics.length === 1);
    const fixed = await connection.sendRequest('workspace/executeCommand', calls.fixAll(uri, 1));
    assert.match(summarize(fixed) ?? '', /^applied Fix 1 finding\(s\): insecure-deserialization/);
    assert.equal(documents.get(uri)?.text, PICKLE.replace(/pickle/g, 'json'));
    await diagnostics(uri, (p) => p.version === 2 && p.diagnostics.length === 0);

    const undone = await connection.sendRequest('workspace/executeCommand', calls.undoFix(uri));
    assert.match(summarize(undone) ?? '', /^undid fix /);
    assert.equal(documents.get(uri)?.text, PICKLE);

    const history = await connection.sendRequest('workspace/executeCommand', calls.showHistory(uri));
    const page = renderHistory(history, 'demo');
    assert.match(page, /\| fix \(undone\) \| loader\.py \| insecure-deserialization \|/);
    assert.match(page, /\| undo of /);
  });

  test('a fix computed for an older version is refused, not applied over newer text', async () => {
    const uri = await open('stale.py', PICKLE);
    await diagnostics(uri, (p) => p.version === 1 && p.diagnostics.length === 1);
    await assert.rejects(connection.sendRequest('workspace/executeCommand', calls.fixAll(uri, 0)), /changed/);
    assert.equal(documents.get(uri)?.text, PICKLE);
  });

  test('settings changes reach the server through workspace/configuration, without a restart', async () => {
    const uri = await open('app.py', PICKLE + '\n\n' + BOTH);
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
