import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { summarize } from '../src/results';

describe('summarize', () => {
  test('fix all: applied with its title, or the reason it was not', () => {
    assert.equal(summarize({ applied: true, id: 'x', title: 'Fix 2 finding(s): xss' }), 'applied Fix 2 finding(s): xss');
    assert.equal(summarize({ applied: false, reason: 'document changed' }), 'not applied: document changed');
  });

  test('undo names the fix it reverted', () => {
    assert.equal(summarize({ undone: '18f-a1', entry: '190-b2', files: ['app.py'] }), 'undid fix 18f-a1');
  });

  test('reindex summarises each folder', () => {
    assert.equal(
      summarize({ folders: [{ root: '/work/app', ok: true, summary: '3 files, 12 chunks' }, { root: '/w/b', ok: false }] }),
      'index app: 3 files, 12 chunks; b: failed',
    );
    assert.equal(summarize({ folders: [] }), 'no workspace folder to index');
  });

  test('messages and strings pass through; anything else says nothing', () => {
    assert.equal(summarize({ message: 'done' }), 'done');
    assert.equal(summarize('ok'), 'ok');
    assert.equal(summarize(null), undefined);
    assert.equal(summarize({ other: 1 }), undefined);
  });
});
