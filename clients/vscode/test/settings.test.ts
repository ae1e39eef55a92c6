import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { explicitValue, expandPath, needsRestart, SERVER_KEYS, toServerSettings } from '../src/settings';

describe('explicitValue', () => {
  test('a value left at its default is not sent, so pyproject.toml stays in charge', () => {
    assert.equal(explicitValue({ defaultValue: 'low' }), undefined);
    assert.equal(explicitValue(undefined), undefined);
  });

  test('the most specific scope wins: folder over workspace over user', () => {
    assert.equal(explicitValue({ defaultValue: 'low', globalValue: 'medium' }), 'medium');
    assert.equal(explicitValue({ globalValue: 'medium', workspaceValue: 'high' }), 'high');
    assert.equal(
      explicitValue({ globalValue: 'medium', workspaceValue: 'high', workspaceFolderValue: 'critical' }),
      'critical',
    );
  });

  test('an explicit false or empty list is still a value', () => {
    assert.equal(explicitValue({ defaultValue: true, globalValue: false }), false);
    assert.deepEqual(explicitValue({ defaultValue: ['xss'], workspaceValue: [] }), []);
  });
});

describe('toServerSettings', () => {
  test('valid explicit values pass through under their camelCase key', () => {
    const { settings, warnings } = toServerSettings({
      enabledClasses: ['sql-injection', 'xss'],
      minSeverity: 'HIGH',
      modelEnabled: false,
      minConfidence: 0.4,
      debounceMs: 200,
      generativeEndpoint: 'http://localhost:8000/v1',
      minConfidenceUnset: undefined,
    });
    assert.deepEqual(warnings.filter((w) => !w.includes('minConfidenceUnset')), []);
    assert.deepEqual(settings, {
      enabledClasses: ['sql-injection', 'xss'],
      minSeverity: 'high',
      modelEnabled: false,
      minConfidence: 0.4,
      debounceMs: 200,
      generativeEndpoint: 'http://localhost:8000/v1',
    });
  });

  test('unset (undefined) values are left out entirely', () => {
    const values = Object.fromEntries(SERVER_KEYS.map((key) => [key, undefined]));
    assert.deepEqual(toServerSettings(values), { settings: {}, warnings: [] });
  });

  test('invalid values are dropped with a warning and the server keeps its own value', () => {
    const { settings, warnings } = toServerSettings({
      minSeverity: 'severe',
      minConfidence: 1.5,
      enabledClasses: ['sql-injection', 'rce'],
      modelEnabled: 'yes',
      debounceMs: 12.5,
      generativeEndpoint: 'localhost:8000',
      indexEnabled: true,
    });
    assert.deepEqual(settings, { indexEnabled: true });
    assert.equal(warnings.length, 6);
    assert.match(warnings.join('\n'), /coderev\.minSeverity: expected one of info, low, medium, high, critical/);
    assert.match(warnings.join('\n'), /coderev\.enabledClasses: unknown value\(s\) rce/);
    assert.match(warnings.join('\n'), /coderev\.minConfidence: expected a number between 0 and 1/);
  });

  test('client-only settings (interpreter, serverArgs) never reach the server', () => {
    const { settings, warnings } = toServerSettings({ interpreter: '/usr/bin/python3', serverArgs: ['-v'] });
    assert.deepEqual(settings, {});
    assert.deepEqual(warnings, []);
  });

  test('unknown keys are reported, not sent', () => {
    const { settings, warnings } = toServerSettings({ colour: 'red' });
    assert.deepEqual(settings, {});
    assert.deepEqual(warnings, ['coderev.colour is not a coderev server setting; ignored']);
  });

  test('a folder index location expands ${workspaceFolder} and ~, a URI is left alone', () => {
    const subs = { workspaceFolder: '/work/app', home: '/home/ada' };
    assert.deepEqual(toServerSettings({ indexUri: '${workspaceFolder}/.cache/idx' }, subs).settings, {
      indexUri: '/work/app/.cache/idx',
    });
    assert.deepEqual(toServerSettings({ indexUri: '~/indexes/app' }, subs).settings, {
      indexUri: '/home/ada/indexes/app',
    });
    assert.deepEqual(toServerSettings({ indexUri: 's3://team-bucket/${workspaceFolder}' }, subs).settings, {
      indexUri: 's3://team-bucket/${workspaceFolder}',
    });
  });
});

describe('needsRestart', () => {
  test('only the interpreter and server arguments need a new server process', () => {
    assert.equal(needsRestart((s) => s === 'coderev.interpreter'), true);
    assert.equal(needsRestart((s) => s === 'coderev.serverArgs'), true);
    assert.equal(needsRestart((s) => s === 'coderev.minSeverity' || s === 'coderev'), false);
  });
});

describe('expandPath', () => {
  test('expands only a leading ~', () => {
    assert.equal(expandPath('~/a~b', { home: '/h' }), '/h/a~b');
    assert.equal(expandPath('a/~/b', { home: '/h' }), 'a/~/b');
    assert.equal(expandPath('~', { home: '/h' }), '/h');
  });
});
