/**
 * Rendering the server's fix history (the answer to `coderev.showHistory`, rows of
 * `.coderev/history.jsonl`) as a Markdown document. Pure module, unit-tested under node.
 */

export interface HistoryRow {
  id?: string;
  kind?: string;
  time?: string;
  class?: string;
  rule?: string;
  title?: string;
  file?: string;
  undoes?: string | null;
  undone?: boolean;
  extra_files?: unknown[];
}

/** The rows in an answer that is either a list or an object holding one (`entries`, `history`). */
export function historyRows(answer: unknown): HistoryRow[] {
  let rows: unknown = answer;
  if (rows && typeof rows === 'object' && !Array.isArray(rows)) {
    const record = rows as Record<string, unknown>;
    rows = record.entries ?? record.history ?? record.items;
  }
  if (!Array.isArray(rows)) {
    return [];
  }
  return rows.filter((row): row is HistoryRow => row !== null && typeof row === 'object');
}

function cell(value: unknown): string {
  const text =
    value === undefined || value === null ? ''
    : typeof value === 'object' ? JSON.stringify(value)
    : `${value as string | number | boolean}`;
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown page listing the fixes (newest first) with their class, file and what undid them. */
export function renderHistory(answer: unknown, workspaceName = 'workspace'): string {
  const rows = historyRows(answer).slice().reverse();
  const lines = [`# coderev fix history: ${workspaceName}`, ''];
  const journalPath =
    answer && typeof answer === 'object' && !Array.isArray(answer) ? (answer as { journal?: unknown }).journal : undefined;
  if (typeof journalPath === 'string') {
    lines.push(`Journal: \`${journalPath}\``, '');
  }
  if (rows.length === 0) {
    lines.push('No fixes have been applied yet (the journal is `.coderev/history.jsonl`).');
    return lines.join('\n') + '\n';
  }
  const undone = new Set(rows.filter((row) => row.undoes).map((row) => row.undoes));
  lines.push('| time | what | file | class | fix | id |', '|---|---|---|---|---|---|');
  for (const row of rows) {
    const extra = Array.isArray(row.extra_files) && row.extra_files.length ? ` (+${row.extra_files.length} files)` : '';
    let what = row.kind ?? 'fix';
    if (row.undoes) {
      what = `undo of ${row.undoes}`;
    } else if (row.undone === true || (row.id && undone.has(row.id))) {
      what = `${what} (undone)`;
    }
    lines.push(
      `| ${cell(row.time)} | ${cell(what)} | ${cell(row.file)}${extra} | ${cell(row.class)} | ` +
        `${cell(row.title ?? row.rule)} | ${cell(row.id)} |`,
    );
  }
  return lines.join('\n') + '\n';
}
