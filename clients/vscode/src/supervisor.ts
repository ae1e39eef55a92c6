/**
 * Runs `coderev serve` through vscode-languageclient: resolves the interpreter, answers the server's
 * workspace/configuration requests with the `coderev` section, restarts a crashed server with backoff,
 * and keeps the status bar item in step with the server's state and its model's (`coderev/modelStatus`).
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  CloseAction,
  ConfigurationParams,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  StaticFeature,
  TransportKind,
  vsdiag,
} from 'vscode-languageclient/node';

import { Backoff } from './backoff';
import { ServerCall } from './commands';
import { describe, resolveInterpreter, ServerCommand, serverCommand } from './interpreter';
import { explicitValue, needsRestart, SECTION, SERVER_KEYS, toServerSettings } from './settings';
import { MODEL_STATUS, ModelStatus, parseModelStatus, ServerState, statusView } from './status';

const PYTHON_EXTENSION = 'ms-python.python';

/** The part of the Python extension's API we use (ms-python.python `environments`, older `settings`). */
interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(env: { id: string; path: string } | string): Promise<
      { executable?: { uri?: vscode.Uri } } | undefined
    >;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] };
  };
}

/**
 * The server pushes diagnostics for every document version. vscode-languageclient would also pull them
 * (the server offers textDocument/diagnostic) into a second collection, showing each finding twice, so
 * the client declares no pull support and the pull provider answers nothing.
 */
class PushDiagnosticsOnly implements StaticFeature {
  getState(): { kind: 'static' } {
    return { kind: 'static' };
  }
  fillClientCapabilities(capabilities: { textDocument?: { diagnostic?: unknown } }): void {
    if (capabilities.textDocument) {
      delete capabilities.textDocument.diagnostic;
    }
  }
  initialize(): void {}
  clear(): void {}
}

export class ServerSupervisor implements vscode.Disposable {
  readonly output: vscode.OutputChannel;
  private readonly status: vscode.StatusBarItem;
  private readonly backoff = new Backoff();
  private readonly disposables: vscode.Disposable[] = [];
  private client: LanguageClient | undefined;
  private command: ServerCommand | undefined;
  private state: ServerState = { kind: 'stopped' };
  /** The last model status the current server sent (none yet: undefined). */
  private model: ModelStatus | undefined;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private generation = 0;
  private watchingPython = false;

  constructor() {
    this.output = vscode.window.createOutputChannel('coderev');
    this.status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
    this.status.name = 'coderev';
    this.disposables.push(this.output, this.status);
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (needsRestart((section) => event.affectsConfiguration(section))) {
          this.log('interpreter settings changed; restarting the server');
          void this.restart();
        }
      }),
    );
    this.setState({ kind: 'stopped' });
    this.status.show();
  }

  /** The running client, if any. */
  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** Resolve the interpreter and start the server. */
  async start(): Promise<void> {
    clearTimeout(this.restartTimer);
    const generation = ++this.generation;
    this.model = undefined;
    this.setState({ kind: 'starting' });
    this.command = await this.resolveCommand();
    if (generation !== this.generation) {
      return; // a newer start or stop overtook this one
    }
    this.log(`starting ${describe(this.command)}`);
    const client = this.createClient(this.command, generation);
    this.client = client;
    this.startedAt = Date.now();
    try {
      await client.start();
      if (generation === this.generation) {
        this.setState({ kind: 'running', version: client.initializeResult?.serverInfo?.version });
      }
    } catch (error) {
      if (generation === this.generation) {
        this.log(`the server did not start: ${String(error)}`);
        this.onCrash(generation);
      }
    }
  }

  /** Stop the server (no restart). */
  async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.generation++;
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        if (client.isRunning()) {
          await client.stop(5_000);
        }
      } catch (error) {
        this.log(`stopping the server: ${String(error)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.setState({ kind: 'stopped' });
  }

  /** Stop, forget past crashes and start again. */
  async restart(): Promise<void> {
    await this.stop();
    this.backoff.reset();
    await this.start();
  }

  /** Run a server command (workspace/executeCommand); throws when the server is not running. */
  async call(call: ServerCall): Promise<unknown> {
    const client = this.running;
    if (!client) {
      throw new Error('the coderev server is not running');
    }
    return client.sendRequest(ExecuteCommandRequest.type, call);
  }

  showOutput(): void {
    this.output.show(true);
  }

  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }

  private log(message: string): void {
    this.output.appendLine(`[coderev] ${message}`);
  }

  private setState(state: ServerState): void {
    this.state = state;
    const view = statusView(state, this.command ? describe(this.command) : '', this.model);
    this.status.text = view.text;
    this.status.tooltip = view.tooltip;
    this.status.command = view.command;
    this.status.backgroundColor = view.background ? new vscode.ThemeColor(view.background) : undefined;
  }

  private async resolveCommand(): Promise<ServerCommand> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const config = vscode.workspace.getConfiguration(SECTION, folder?.uri);
    const configured = config.get<string>('interpreter', '');
    const pythonExtension = configured ? undefined : await this.pythonFromExtension(folder?.uri);
    const interpreter = resolveInterpreter({
      configured,
      pythonExtension,
      platform: process.platform,
      workspaceFolder: folder?.uri.fsPath,
      home: os.homedir(),
    });
    const extraArgs = config.get<string[]>('serverArgs', []);
    return serverCommand(interpreter, (file) => fs.existsSync(file), process.platform, extraArgs);
  }

  private async pythonFromExtension(resource: vscode.Uri | undefined): Promise<string | undefined> {
    const extension = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION);
    if (!extension) {
      return undefined;
    }
    try {
      const api = extension.isActive ? extension.exports : await extension.activate();
      const environments = api?.environments;
      if (environments) {
        const resolved = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(resource));
        const executable = resolved?.executable?.uri?.fsPath;
        if (environments.onDidChangeActiveEnvironmentPath && !this.watchingPython) {
          this.watchingPython = true;
          this.disposables.push(
            environments.onDidChangeActiveEnvironmentPath(() => {
              if (this.command?.source === 'python-extension') {
                this.log("the Python extension's interpreter changed; restarting the server");
                void this.restart();
              }
            }),
          );
        }
        if (executable) {
          return executable;
        }
      }
      const execCommand = api?.settings?.getExecutionDetails?.(resource).execCommand;
      return execCommand && execCommand.length === 1 ? execCommand[0] : undefined;
    } catch (error) {
      this.log(`could not ask the Python extension for its interpreter: ${String(error)}`);
      return undefined;
    }
  }

  private createClient(command: ServerCommand, generation: number): LanguageClient {
    const serverOptions: ServerOptions = {
      command: command.command,
      args: command.args,
      transport: TransportKind.stdio,
      options: { env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'python' },
        { scheme: 'untitled', language: 'python' },
      ],
      synchronize: { configurationSection: SECTION },
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          if (generation === this.generation) {
            this.onCrash(generation);
          }
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      middleware: {
        workspace: {
          configuration: (params: ConfigurationParams, token, next) => this.answerConfiguration(params, token, next),
          // Send `settings: null`: the server then asks workspace/configuration, answered above.
          didChangeConfiguration: (_sections, next) => next(undefined),
        },
        provideDiagnostics: () => ({ kind: vsdiag.DocumentDiagnosticReportKind.full, items: [] }),
      },
    };
    const client = new LanguageClient('coderev', 'coderev', serverOptions, clientOptions);
    client.registerFeature(new PushDiagnosticsOnly());
    client.onNotification(MODEL_STATUS, (params: unknown) => this.onModelStatus(params, generation));
    return client;
  }

  /** workspace/configuration: the `coderev` items get the explicitly set, validated server settings. */
  private async answerConfiguration(
    params: ConfigurationParams,
    token: vscode.CancellationToken,
    next: (params: ConfigurationParams, token: vscode.CancellationToken) => unknown,
  ): Promise<unknown[]> {
    const others = params.items.some((item) => item.section !== SECTION)
      ? ((await next(params, token)) as unknown[])
      : [];
    return params.items.map((item, index) => {
      if (item.section !== SECTION) {
        return Array.isArray(others) ? others[index] : null;
      }
      const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
      const config = vscode.workspace.getConfiguration(SECTION, scope);
      const values: Record<string, unknown> = {};
      for (const key of SERVER_KEYS) {
        values[key] = explicitValue(config.inspect(key));
      }
      const folder = scope ? vscode.workspace.getWorkspaceFolder(scope) : vscode.workspace.workspaceFolders?.[0];
      const { settings, warnings } = toServerSettings(values, {
        workspaceFolder: folder?.uri.fsPath,
        home: os.homedir(),
      });
      for (const warning of warnings) {
        this.log(warning);
      }
      return settings;
    });
  }

  /** `coderev/modelStatus` from the server of `generation`: shown in the status bar item. */
  private onModelStatus(params: unknown, generation: number): void {
    const model = parseModelStatus(params);
    if (generation !== this.generation || !model) {
      return;
    }
    if (model.state === 'unavailable') {
      this.log(`the model is unavailable: ${model.reason}`);
    }
    this.model = model;
    this.setState(this.state);
  }

  private onCrash(generation: number): void {
    if (generation !== this.generation || this.state.kind === 'restarting' || this.state.kind === 'failed') {
      return;
    }
    const delay = this.backoff.onCrash(this.startedAt, Date.now());
    const old = this.client;
    this.client = undefined;
    void old?.dispose().catch(() => undefined);
    if (delay === undefined) {
      const reason = `the server stopped ${this.backoff.crashes - 1} times in a row and was not restarted`;
      this.log(`${reason}; see the log above`);
      this.setState({ kind: 'failed', reason });
      void vscode.window
        .showErrorMessage(`coderev: ${reason}.`, 'Show output', 'Restart')
        .then((choice) => (choice === 'Restart' ? this.restart() : choice ? this.showOutput() : undefined));
      return;
    }
    this.log(`the server stopped; restarting in ${delay} ms (crash ${this.backoff.crashes})`);
    this.setState({ kind: 'restarting', inMs: delay, crashes: this.backoff.crashes });
    this.restartTimer = setTimeout(() => {
      if (generation === this.generation) {
        void this.start();
      }
    }, delay);
  }
}
