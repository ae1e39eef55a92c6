/** The coderev extension: starts the language server and contributes its commands. */

import * as vscode from 'vscode';

import * as calls from './commands';
import { renderHistory } from './history';
import { summarize } from './results';
import { ServerSupervisor } from './supervisor';

let supervisor: ServerSupervisor | undefined;

function activePythonDocument(): vscode.TextDocument | undefined {
  const document = vscode.window.activeTextEditor?.document;
  if (!document || document.languageId !== 'python') {
    void vscode.window.showWarningMessage('coderev: open a Python file first.');
    return undefined;
  }
  return document;
}

async function run(title: string, action: () => Promise<unknown>): Promise<unknown> {
  try {
    return await action();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`coderev: ${title} failed: ${message}`);
    return undefined;
  }
}

function report(result: unknown): void {
  const message = summarize(result);
  if (message) {
    void vscode.window.showInformationMessage(`coderev: ${message}`);
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const server = new ServerSupervisor();
  supervisor = server;
  context.subscriptions.push(server);
  const register = (id: string, handler: () => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  };

  register('coderev.fixAllInFile', () =>
    run('fix all', async () => {
      const document = activePythonDocument();
      if (document) {
        report(await server.call(calls.fixAll(document.uri.toString(), document.version)));
      }
    }),
  );
  register('coderev.undoLastFix', () =>
    run('undo', async () => {
      const document = vscode.window.activeTextEditor?.document;
      report(await server.call(calls.undoFix(document?.uri.toString())));
    }),
  );
  register('coderev.reindexWorkspace', () =>
    run('reindex', async () => report(await server.call(calls.reindex()))),
  );
  register('coderev.showFixHistory', () =>
    run('show history', async () => {
      const uri = vscode.window.activeTextEditor?.document.uri.toString();
      const answer = await server.call(calls.showHistory(uri));
      const name = vscode.workspace.workspaceFolders?.[0]?.name;
      const document = await vscode.workspace.openTextDocument({
        language: 'markdown',
        content: renderHistory(answer, name),
      });
      await vscode.window.showTextDocument(document, { preview: true });
    }),
  );
  register('coderev.restartServer', () => run('restart', () => server.restart()));
  register('coderev.showOutput', () => server.showOutput());

  await server.start();
}

export async function deactivate(): Promise<void> {
  await supervisor?.stop();
  supervisor = undefined;
}
