import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Backoff } from '../src/backoff';

const options = { initialMs: 1000, factor: 2, maxMs: 5000, maxAttempts: 4, stableMs: 60_000 };

describe('Backoff', () => {
  test('delays double after each quick crash and are capped', () => {
    const backoff = new Backoff(options);
    assert.deepEqual(
      [1, 2, 3, 4].map((i) => backoff.onCrash(i * 1000, i * 1000 + 10)),
      [1000, 2000, 4000, 5000],
    );
  });

  test('gives up after maxAttempts crashes in a row', () => {
    const backoff = new Backoff(options);
    for (let i = 0; i < 4; i++) {
      assert.notEqual(backoff.onCrash(0, 10), undefined);
    }
    assert.equal(backoff.onCrash(0, 10), undefined);
  });

  test('a server that ran stably before crashing starts the count afresh', () => {
    const backoff = new Backoff(options);
    backoff.onCrash(0, 10);
    backoff.onCrash(0, 10);
    assert.equal(backoff.onCrash(0, 120_000), 1000);
    assert.equal(backoff.crashes, 1);
  });

  test('reset forgets past crashes', () => {
    const backoff = new Backoff(options);
    for (let i = 0; i < 5; i++) {
      backoff.onCrash(0, 10);
    }
    backoff.reset();
    assert.equal(backoff.onCrash(0, 10), 1000);
  });
});
