/**
 * The `coderev` settings section: which VS Code settings are the server's, how they are validated,
 * and which values are sent. Pure module (no `vscode` import) so it is unit-tested under node.
 */

export const SECTION = 'coderev';

export const VULN_CLASSES = [
  'sql-injection',
  'command-injection',
  'xss',
  'ssrf',
  'broken-auth',
  'session-fixation',
  'sensitive-data-exposure',
  'hardcoded-secret',
  'security-misconfiguration',
  'cors-misconfiguration',
  'path-traversal',
  'insecure-deserialization',
  'code-injection',
  'xxe',
  'open-redirect',
  'csrf',
  'insecure-randomness',
] as const;

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
/** Finding tiers (ai_core.findings.TIERS): proven flows, and review findings (sinks fed by unproven data). */
export const TIERS = ['flow', 'review'] as const;
export const MODEL_VARIANTS = ['auto', 'fp32', 'bf16', 'int8', 'nf4', 'student'] as const;

type Check = (value: unknown) => string | undefined;

const isBool: Check = (v) => (typeof v === 'boolean' ? undefined : 'expected true or false');
const isString: Check = (v) => (typeof v === 'string' ? undefined : 'expected a string');
const isStringList: Check = (v) =>
  Array.isArray(v) && v.every((item) => typeof item === 'string') ? undefined : 'expected a list of strings';
const oneOf =
  (allowed: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && allowed.includes(v.toLowerCase()) ? undefined : `expected one of ${allowed.join(', ')}`;
const listOf =
  (allowed: readonly string[]): Check =>
  (v) => {
    if (isStringList(v)) {
      return isStringList(v);
    }
    const unknown = (v as string[]).filter((item) => !allowed.includes(item));
    return unknown.length ? `unknown value(s) ${unknown.join(', ')}` : undefined;
  };
const number =
  (min: number, max = Number.POSITIVE_INFINITY, integer = false): Check =>
  (v) => {
    if (typeof v !== 'number' || Number.isNaN(v)) {
      return 'expected a number';
    }
    if (integer && !Number.isInteger(v)) {
      return 'expected a whole number';
    }
    return v < min || v > max ? `expected a number between ${min} and ${max}` : undefined;
  };
const endpoint: Check = (v) => {
  if (typeof v !== 'string') {
    return 'expected a string';
  }
  return v === '' || /^https?:\/\/[^\s/]+/.test(v) ? undefined : 'expected an http(s) URL or ""';
};

/** The server's settings, by their camelCase key (the fields of ai_core.config.Settings), with a validator. */
export const SERVER_SETTINGS: Readonly<Record<string, Check>> = {
  enabledClasses: listOf(VULN_CLASSES),
  minSeverity: oneOf(SEVERITIES),
  minConfidence: number(0, 1),
  tiers: listOf(TIERS),
  honourNosec: isBool,
  exclude: isStringList,
  maxFileBytes: number(0, Number.MAX_SAFE_INTEGER, true),
  modelEnabled: isBool,
  modelThreshold: number(0, 1),
  modelVariant: oneOf(MODEL_VARIANTS),
  modelFunctionLevel: isBool,
  showModelDropped: isBool,
  modelFunctionThreshold: number(0, 1),
  modelFunctionClasses: listOf(VULN_CLASSES),
  adapter: isString,
  adapterRegistry: isString,
  indexEnabled: isBool,
  indexUri: isString,
  generativeEndpoint: endpoint,
  generativeModel: isString,
  runTestsOnFix: isBool,
  testTimeoutS: number(0),
  debounceMs: number(0, 60_000, true),
};

export const SERVER_KEYS: readonly string[] = Object.keys(SERVER_SETTINGS);

/** Path-like settings in which `${workspaceFolder}`, `${userHome}` and `~` are expanded (not in URIs). */
const PATH_KEYS: readonly string[] = ['indexUri', 'adapterRegistry'];

/** Settings of the extension itself, never sent to the server; changing them restarts the server. */
export const RESTART_KEYS = ['interpreter', 'serverArgs'] as const;

/** What `WorkspaceConfiguration.inspect(key)` returns (the scopes we read). */
export interface Inspection<T = unknown> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
  defaultLanguageValue?: T;
  globalLanguageValue?: T;
  workspaceLanguageValue?: T;
  workspaceFolderLanguageValue?: T;
}

/**
 * The value the user set in the most specific scope, or undefined when only the default applies.
 * Defaults are not sent, so `[tool.coderev]` in pyproject.toml stays in charge of what the user did
 * not set in the editor.
 */
export function explicitValue<T>(inspection: Inspection<T> | undefined): T | undefined {
  if (!inspection) {
    return undefined;
  }
  return (
    inspection.workspaceFolderLanguageValue ??
    inspection.workspaceFolderValue ??
    inspection.workspaceLanguageValue ??
    inspection.workspaceValue ??
    inspection.globalLanguageValue ??
    inspection.globalValue
  );
}

export interface Substitutions {
  workspaceFolder?: string;
  home?: string;
}

/** Expand `${workspaceFolder}`, `${userHome}` and a leading `~` in a path-like setting. */
export function expandPath(value: string, subs: Substitutions): string {
  let out = value;
  if (subs.workspaceFolder !== undefined) {
    out = out.split('${workspaceFolder}').join(subs.workspaceFolder);
  }
  if (subs.home !== undefined) {
    out = out.split('${userHome}').join(subs.home);
    if (out === '~' || out.startsWith('~/')) {
      out = subs.home + out.slice(1);
    }
  }
  return out;
}

export interface ServerSettings {
  /** The `coderev` section to send: only valid, explicitly set server keys. */
  settings: Record<string, unknown>;
  /** One line per value left out, to show in the output channel. */
  warnings: string[];
}

/**
 * Build the section the server receives from the user's explicit values (`values[key]`, undefined when
 * not set). Unknown and invalid values are left out with a warning, so the server keeps its own value.
 */
export function toServerSettings(values: Readonly<Record<string, unknown>>, subs: Substitutions = {}): ServerSettings {
  const settings: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const [key, raw] of Object.entries(values)) {
    if (raw === undefined || raw === null || (RESTART_KEYS as readonly string[]).includes(key)) {
      continue;
    }
    const check = SERVER_SETTINGS[key];
    if (!check) {
      warnings.push(`coderev.${key} is not a coderev server setting; ignored`);
      continue;
    }
    const problem = check(raw);
    if (problem) {
      warnings.push(`coderev.${key}: ${problem} (got ${JSON.stringify(raw)}); the server keeps its own value`);
      continue;
    }
    let value = raw;
    if (key === 'minSeverity' || key === 'modelVariant') {
      value = (raw as string).toLowerCase();
    } else if (PATH_KEYS.includes(key) && typeof raw === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
      value = expandPath(raw, subs);
    }
    settings[key] = value;
  }
  return { settings, warnings };
}

/** Whether a configuration change needs a new server process (the others apply live). */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(`${SECTION}.${key}`));
}
