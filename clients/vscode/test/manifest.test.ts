// The manifest (package.json) agrees with the code and with the server's own settings (ai_core/config.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';

import { MODEL_VARIANTS, RESTART_KEYS, SECTION, SERVER_KEYS, SEVERITIES, VULN_CLASSES } from '../src/settings';

const root = path.resolve(__dirname, '..', '..'); // out/unit -> clients/vscode
const repo = path.resolve(root, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  activationEvents: string[];
  contributes: {
    configuration: { properties: Record<string, { default: unknown; enum?: string[]; items?: { enum?: string[] } }> };
    commands: { command: string }[];
  };
};
const properties = manifest.contributes.configuration.properties;

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Field name -> default source text of `class Settings` in ai_core/config.py. */
function pythonSettings(): Map<string, string> {
  const source = readFileSync(path.join(repo, 'ai_core', 'config.py'), 'utf8');
  const body = source.split('class Settings')[1].split('\n    def ')[0];
  const fields = new Map<string, string>();
  for (const match of body.matchAll(/^ {4}(\w+): [^=\n]+= (.+)$/gm)) {
    fields.set(match[1], match[2].trim());
  }
  return fields;
}

describe('package.json', () => {
  test('contributes exactly the server settings plus the client-only ones', () => {
    const contributed = Object.keys(properties).map((key) => key.slice(SECTION.length + 1)).sort();
    assert.deepEqual(contributed, [...SERVER_KEYS, ...RESTART_KEYS].sort());
  });

  test('every server setting is a field of ai_core.config.Settings', () => {
    const fields = pythonSettings();
    assert.ok(fields.size >= 15, `parsed ${fields.size} fields from config.py`);
    const missing = SERVER_KEYS.filter((key) => !fields.has(snake(key)));
    assert.deepEqual(missing, []);
  });

  test('documented defaults match the server defaults', () => {
    const fields = pythonSettings();
    const literal = (text: string): unknown => {
      if (text === 'True' || text === 'False') return text === 'True';
      if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
      if (/^"[^"]*"$/.test(text)) return text.slice(1, -1);
      if (/^Severity\.\w+$/.test(text)) return text.split('.')[1].toLowerCase();
      if (/^\d+ \* 1024 \* 1024$/.test(text)) return Number(text.split(' ')[0]) * 1024 * 1024;
      if (text === 'frozenset(VulnClass)') return [...VULN_CLASSES];
      if (text === '()') return [];
      if (text === 'TIERS') {  // the tuple of tier names in ai_core/findings.py
        const findings = readFileSync(path.join(repo, 'ai_core', 'findings.py'), 'utf8');
        const body = findings.split('\nTIERS = (')[1]?.split(')')[0] ?? '';
        return [...body.matchAll(/"(\w+)"/g)].map((m) => m[1]);
      }
      if (/^[A-Z_]+$/.test(text)) {  // a module constant such as MODEL_FUNCTION_CLASSES = frozenset({VulnClass.X, ...})
        const config = readFileSync(path.join(repo, 'ai_core', 'config.py'), 'utf8');
        const body = config.split(`\n${text} = frozenset({`)[1]?.split('})')[0] ?? '';
        const named = [...body.matchAll(/VulnClass\.(\w+)/g)].map((m) => m[1].toLowerCase().replace(/_/g, '-'));
        return VULN_CLASSES.filter((c) => named.includes(c));
      }
      return undefined;
    };
    let compared = 0;
    for (const key of SERVER_KEYS) {
      const expected = literal(fields.get(snake(key)) ?? '');
      if (expected !== undefined) {
        assert.deepEqual(properties[`${SECTION}.${key}`].default, expected, `default of ${SECTION}.${key}`);
        compared++;
      }
    }
    assert.ok(compared >= SERVER_KEYS.length - 1, `compared ${compared} of ${SERVER_KEYS.length} defaults`);
  });

  test('class, severity and variant choices match the server', () => {
    const findings = readFileSync(path.join(repo, 'ai_core', 'findings.py'), 'utf8');
    const classBody = findings.split('class VulnClass')[1].split('@property')[0];
    const pythonClasses = [...classBody.matchAll(/= "([a-z-]+)"/g)].map((m) => m[1]);
    assert.deepEqual(pythonClasses, [...VULN_CLASSES]);
    assert.deepEqual(properties['coderev.enabledClasses'].items?.enum, [...VULN_CLASSES]);
    assert.deepEqual(properties['coderev.minSeverity'].enum, [...SEVERITIES]);
    assert.deepEqual(properties['coderev.modelVariant'].enum, [...MODEL_VARIANTS]);
    const config = readFileSync(path.join(repo, 'ai_core', 'config.py'), 'utf8');
    assert.match(config, new RegExp(`MODEL_VARIANTS = \\(${MODEL_VARIANTS.map((v) => `"${v}"`).join(', ')}\\)`));
  });

  test('every contributed command is registered by the extension and the other way round', () => {
    const source = readFileSync(path.join(root, 'src', 'extension.ts'), 'utf8');
    const registered = [...source.matchAll(/register\('([\w.]+)'/g)].map((m) => m[1]).sort();
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(registered, contributed);
  });

  test('the extension activates on Python files and ships the bundle', () => {
    assert.deepEqual(manifest.activationEvents, ['onLanguage:python']);
    assert.equal(manifest.main, './out/extension.js');
  });
});
