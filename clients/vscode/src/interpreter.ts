/**
 * Which Python runs the server, and the command line that starts `coderev serve` with it.
 * Pure module (no `vscode` import): the extension gathers the inputs, this decides.
 */

import * as path from 'node:path';
import { expandPath, Substitutions } from './settings';

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface InterpreterInputs extends Substitutions {
  /** `coderev.interpreter` as the user set it (empty or undefined when unset). */
  configured?: string;
  /** The interpreter the Python extension has selected for the workspace, if it is installed. */
  pythonExtension?: string;
  platform: NodeJS.Platform;
}

export interface Interpreter {
  python: string;
  source: InterpreterSource;
}

export interface ServerCommand {
  command: string;
  args: string[];
  /** Why this interpreter: shown in the output channel and the status bar's tooltip. */
  source: InterpreterSource;
  python: string;
}

/** The fallback when nothing is configured: `python3` (`python` on Windows, where python3 may be a stub). */
export function defaultPython(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'python' : 'python3';
}

/** `coderev.interpreter`, else the Python extension's interpreter, else `python3`. */
export function resolveInterpreter(inputs: InterpreterInputs): Interpreter {
  const configured = inputs.configured?.trim();
  if (configured) {
    let python = expandPath(configured, inputs);
    const isBareName = !python.includes('/') && !python.includes('\\');
    if (!isBareName && !isAbsolute(python, inputs.platform) && inputs.workspaceFolder) {
      python = joinPath(inputs.workspaceFolder, python, inputs.platform);
    }
    return { python, source: 'setting' };
  }
  const fromExtension = inputs.pythonExtension?.trim();
  if (fromExtension) {
    return { python: fromExtension, source: 'python-extension' };
  }
  return { python: defaultPython(inputs.platform), source: 'default' };
}

/**
 * The command that starts the server with `interpreter`: the `coderev` script installed next to it
 * when there is one, else `<python> -P -m server.cli serve` (`-P`, Python 3.11+, keeps the workspace
 * folder off sys.path, so a project with its own `server` package cannot shadow coderev's).
 */
export function serverCommand(
  interpreter: Interpreter,
  exists: (file: string) => boolean,
  platform: NodeJS.Platform,
  extraArgs: readonly string[] = [],
): ServerCommand {
  const { python, source } = interpreter;
  if (isAbsolute(python, platform)) {
    const dir = (platform === 'win32' ? path.win32 : path.posix).dirname(python);
    const script = joinPath(dir, platform === 'win32' ? 'coderev.exe' : 'coderev', platform);
    if (exists(script)) {
      return { command: script, args: ['serve', ...extraArgs], source, python };
    }
  }
  return { command: python, args: ['-P', '-m', 'server.cli', 'serve', ...extraArgs], source, python };
}

/** A one-line description for logs and the status bar. */
export function describe(command: ServerCommand): string {
  const origin = {
    setting: 'from coderev.interpreter',
    'python-extension': "the Python extension's interpreter",
    default: 'default, no interpreter configured',
  }[command.source];
  return `${[command.command, ...command.args].join(' ')} (${origin})`;
}

function isAbsolute(file: string, platform: NodeJS.Platform): boolean {
  return platform === 'win32' ? path.win32.isAbsolute(file) : path.posix.isAbsolute(file);
}

function joinPath(dir: string, file: string, platform: NodeJS.Platform): string {
  return platform === 'win32' ? path.win32.join(dir, file) : path.posix.join(dir, file);
}
