import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseModelStatus, statusView } from '../src/status';

describe('statusView', () => {
  test('running shows the shield and the server version', () => {
    const view = statusView({ kind: 'running', version: '0.1.0' }, 'coderev serve');
    assert.equal(view.text, '$(shield) coderev');
    assert.match(view.tooltip, /coderev 0\.1\.0: running\ncoderev serve/);
    assert.equal(view.background, undefined);
  });

  test('restarting warns with the crash count and the delay', () => {
    const view = statusView({ kind: 'restarting', inMs: 4000, crashes: 3 });
    assert.equal(view.background, 'statusBarItem.warningBackground');
    assert.match(view.tooltip, /\(3x\); restarting in 4s/);
  });

  test('failed and stopped offer a restart on click', () => {
    assert.equal(statusView({ kind: 'failed', reason: 'gave up' }).command, 'coderev.restartServer');
    assert.equal(statusView({ kind: 'failed', reason: 'gave up' }).background, 'statusBarItem.errorBackground');
    assert.equal(statusView({ kind: 'stopped' }).command, 'coderev.restartServer');
    assert.equal(statusView({ kind: 'starting' }).text, '$(sync~spin) coderev');
  });
});

describe('the model status in the status bar item', () => {
  const running = { kind: 'running', version: '0.1.0' } as const;

  test('a loading model spins beside the shield, and the tooltip says the rules answer meanwhile', () => {
    const view = statusView(running, '', { state: 'loading' });
    assert.equal(view.text, '$(shield) coderev $(loading~spin)');
    assert.match(view.tooltip, /^coderev 0\.1\.0: running\nmodel: loading \(the rules answer meanwhile\)$/);
    assert.equal(view.background, undefined);
  });

  test('a loaded model names its adapter and variant, with the plain shield', () => {
    const view = statusView(running, 'coderev serve', { state: 'loaded', adapter: '1.1.0', variant: 'bf16' });
    assert.equal(view.text, '$(shield) coderev');
    assert.match(view.tooltip, /\nmodel: loaded \(adapter 1\.1\.0, bf16\)\ncoderev serve$/);
  });

  test('an unavailable model warns, with the reason', () => {
    const view = statusView(running, '', { state: 'unavailable', reason: "no adapter version '9.9.9'" });
    assert.equal(view.text, '$(shield) coderev $(warning)');
    assert.equal(view.background, 'statusBarItem.warningBackground');
    assert.match(view.tooltip, /model: unavailable \(no adapter version '9\.9\.9'\); diagnostics come from the rules/);
  });

  test('a model turned off says rules only', () => {
    const view = statusView(running, '', { state: 'off' });
    assert.equal(view.text, '$(shield) coderev (rules)');
    assert.match(view.tooltip, /model: off \(rules only\)/);
  });

  test('while the server is not running, its state wins over a stale model status', () => {
    const view = statusView({ kind: 'restarting', inMs: 1000, crashes: 1 }, '', { state: 'loaded' });
    assert.equal(view.text, '$(warning) coderev');
    assert.doesNotMatch(view.tooltip, /model/);
  });
});

describe('parseModelStatus', () => {
  test('reads what the server sends (state, reason, adapter, variant)', () => {
    assert.deepEqual(parseModelStatus({ state: 'loading', reason: '' }), { state: 'loading' });
    assert.deepEqual(parseModelStatus({ state: 'loaded', reason: '', adapter: '1.1.0', variant: 'fp32' }),
      { state: 'loaded', adapter: '1.1.0', variant: 'fp32' });
    assert.deepEqual(parseModelStatus({ state: 'unavailable', reason: 'no torch' }),
      { state: 'unavailable', reason: 'no torch' });
    assert.deepEqual(parseModelStatus({ state: 'off', reason: '' }), { state: 'off' });
  });

  test('ignores anything else instead of throwing', () => {
    for (const params of [undefined, null, 'loaded', 7, [], {}, { state: 'exploded' }, { state: 3 }]) {
      assert.equal(parseModelStatus(params), undefined);
    }
    assert.deepEqual(parseModelStatus({ state: 'unavailable' }), { state: 'unavailable', reason: 'no reason given' });
    assert.deepEqual(parseModelStatus({ state: 'loaded', adapter: 5, variant: null }),
      { state: 'loaded', adapter: undefined, variant: undefined });
  });
});
