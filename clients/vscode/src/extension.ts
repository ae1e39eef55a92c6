/** The coderev extension: starts the language server and contributes its commands. */

import * as vscode from 'vscode';

import { renderHistory } from './history';
import { ServerSupervisor } from './supervisor';

let supervisor: ServerSupervisor | undefined;

/** The server commands (workspace/executeCommand) the extension's own commands call. */
export const SERVER_COMMANDS = {
  fixAll: 'coderev.fixAll',
  undoFix: 'coderev.undoFix',
  reindex: 'coderev.reindex',
  showHistory: 'coderev.showHistory',
} as const;

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
  const message =
    typeof result === 'string' ? result
    : result && typeof result === 'object' && typeof (result as { message?: unknown }).message === 'string'
      ? (result as { message: string }).message
      : undefined;
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
        report(await server.execute(SERVER_COMMANDS.fixAll, [document.uri.toString(), document.version]));
      }
    }),
  );
  register('coderev.undoLastFix', () =>
    run('undo', async () => {
      const document = vscode.window.activeTextEditor?.document;
      report(await server.execute(SERVER_COMMANDS.undoFix, document ? [document.uri.toString()] : []));
    }),
  );
  register('coderev.reindexWorkspace', () =>
    run('reindex', async () => report(await server.execute(SERVER_COMMANDS.reindex, []))),
  );
  register('coderev.showFixHistory', () =>
    run('show history', async () => {
      const answer = await server.execute(SERVER_COMMANDS.showHistory, []);
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
