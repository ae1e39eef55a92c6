import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { historyRows, renderHistory } from '../src/history';

const fix = {
  id: '18f-a1',
  kind: 'fix',
  time: '2026-11-24T10:00:00+00:00',
  class: 'insecure-deserialization',
  rule: 'deserialization.pickle-loads',
  title: 'Use json.loads | not pickle',
  file: 'app.py',
  extra_files: [],
};
const undo = { id: '190-b2', kind: 'undo', time: '2026-11-24T10:05:00+00:00', file: 'app.py', undoes: '18f-a1' };

describe('renderHistory', () => {
  test('lists fixes newest first, marks undone ones and escapes table cells', () => {
    const page = renderHistory([fix, undo], 'demo');
    const lines = page.split('\n');
    assert.equal(lines[0], '# coderev fix history: demo');
    const rows = lines.filter((line) => line.startsWith('| 2026'));
    assert.equal(rows.length, 2);
    assert.match(rows[0], /undo of 18f-a1/);
    assert.match(rows[1], /fix \(undone\) \| app\.py \| insecure-deserialization \| Use json\.loads \\\| not pickle/);
  });

  test('an empty journal says so', () => {
    assert.match(renderHistory([]), /No fixes have been applied yet/);
  });

  test('accepts an object wrapping the rows and ignores junk', () => {
    assert.deepEqual(historyRows({ entries: [fix, 3, null] }), [fix]);
    assert.deepEqual(historyRows('nonsense'), []);
  });
});

describe('renderHistory with the server answer shape', () => {
  test('{root, journal, entries} with undone flags', () => {
    const answer = {
      root: '/w',
      journal: '/w/.coderev/history.jsonl',
      entries: [
        { ...fix, undone: true, undoes: null },
        { ...undo, class: '', title: 'undo' },
      ],
    };
    const page = renderHistory(answer, 'w');
    assert.match(page, /Journal: `\/w\/\.coderev\/history\.jsonl`/);
    assert.match(page, /\| fix \(undone\) \|/);
    assert.match(page, /\| undo of 18f-a1 \|/);
  });
});
