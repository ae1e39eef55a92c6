/**
 * The server's commands (workspace/executeCommand) the extension calls, and the arguments it sends:
 * one object, as server/actions.py and server/indexing.py read them. Pure module, tested against the
 * real server under node.
 */

export const SERVER_COMMANDS = {
  fixAll: 'coderev.fixAll',
  undoFix: 'coderev.undoFix',
  reindex: 'coderev.reindex',
  showHistory: 'coderev.showHistory',
} as const;

export interface ServerCall {
  command: string;
  arguments: unknown[];
}

/** Apply every verified fix in a document, at the version the editor has. */
export function fixAll(uri: string, version?: number): ServerCall {
  return { command: SERVER_COMMANDS.fixAll, arguments: [version === undefined ? { uri } : { uri, version }] };
}

/** Undo the last fix in the workspace of `uri` (the first workspace folder without one). */
export function undoFix(uri?: string): ServerCall {
  return { command: SERVER_COMMANDS.undoFix, arguments: uri ? [{ uri }] : [] };
}

/** Bring the index up to date; `rebuild` starts it afresh. */
export function reindex(rebuild = false): ServerCall {
  return { command: SERVER_COMMANDS.reindex, arguments: [{ rebuild }] };
}

/** The fix journal of the workspace of `uri`. */
export function showHistory(uri?: string): ServerCall {
  return { command: SERVER_COMMANDS.showHistory, arguments: uri ? [{ uri }] : [] };
}
