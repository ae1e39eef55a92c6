/** One-line summaries of the server commands' answers, for notifications. Pure module, unit-tested under node. */

interface FolderResult {
  root?: string;
  ok?: boolean;
  summary?: string;
}

function basename(file: string): string {
  const parts = file.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? file;
}

/**
 * The message for a command's answer: `{applied, title|reason}` (coderev.fixAll / applyFix),
 * `{undone}` (coderev.undoFix), `{folders}` (coderev.reindex), `{message}` or a string; undefined
 * when there is nothing worth saying.
 */
export function summarize(result: unknown): string | undefined {
  if (typeof result === 'string') {
    return result || undefined;
  }
  if (!result || typeof result !== 'object') {
    return undefined;
  }
  const record = result as Record<string, unknown>;
  if (typeof record.message === 'string') {
    return record.message;
  }
  if (record.applied === true) {
    return `applied ${typeof record.title === 'string' ? record.title : 'the fix'}`;
  }
  if (record.applied === false) {
    return `not applied: ${typeof record.reason === 'string' ? record.reason : 'the editor refused the edit'}`;
  }
  if (typeof record.undone === 'string') {
    return `undid fix ${record.undone}`;
  }
  if (Array.isArray(record.folders)) {
    const parts = (record.folders as FolderResult[]).map(
      (folder) => `${basename(folder.root ?? '?')}: ${folder.summary ?? (folder.ok ? 'ok' : 'failed')}`,
    );
    return parts.length ? `index ${parts.join('; ')}` : 'no workspace folder to index';
  }
  return undefined;
}
