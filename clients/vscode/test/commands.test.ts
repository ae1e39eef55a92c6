import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fixAll, reindex, showHistory, undoFix } from '../src/commands';

describe('server command arguments', () => {
  test('each command sends one object (or none), as the server reads it', () => {
    assert.deepEqual(fixAll('file:///a.py', 3), { command: 'coderev.fixAll', arguments: [{ uri: 'file:///a.py', version: 3 }] });
    assert.deepEqual(fixAll('file:///a.py'), { command: 'coderev.fixAll', arguments: [{ uri: 'file:///a.py' }] });
    assert.deepEqual(undoFix(), { command: 'coderev.undoFix', arguments: [] });
    assert.deepEqual(undoFix('file:///a.py'), { command: 'coderev.undoFix', arguments: [{ uri: 'file:///a.py' }] });
    assert.deepEqual(reindex(true), { command: 'coderev.reindex', arguments: [{ rebuild: true }] });
    assert.deepEqual(showHistory('file:///a.py').arguments, [{ uri: 'file:///a.py' }]);
  });
});
