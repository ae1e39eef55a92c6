import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { statusView } from '../src/status';

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
