/** What the status bar item shows for each state of the server. Pure module, unit-tested under node. */

export type ServerState =
  | { kind: 'starting' }
  | { kind: 'running'; version?: string }
  | { kind: 'restarting'; inMs: number; crashes: number }
  | { kind: 'failed'; reason: string }
  | { kind: 'stopped' };

export interface StatusView {
  text: string;
  tooltip: string;
  /** Background colour theme id for states that need attention, else undefined. */
  background?: 'statusBarItem.warningBackground' | 'statusBarItem.errorBackground';
  /** The command a click runs. */
  command: string;
}

/** The status bar item for `state`; `detail` (the server command line) goes in the tooltip. */
export function statusView(state: ServerState, detail = ''): StatusView {
  const suffix = detail ? `\n${detail}` : '';
  switch (state.kind) {
    case 'starting':
      return { text: '$(sync~spin) coderev', tooltip: `coderev: starting the server${suffix}`,
        command: 'coderev.showOutput' };
    case 'running':
      return {
        text: '$(shield) coderev',
        tooltip: `coderev ${state.version ?? ''}: running${suffix}`.replace('  ', ' '),
        command: 'coderev.showOutput',
      };
    case 'restarting': {
      const seconds = Math.max(1, Math.round(state.inMs / 1000));
      return {
        text: '$(warning) coderev',
        tooltip: `coderev: the server stopped unexpectedly (${state.crashes}x); restarting in ${seconds}s${suffix}`,
        background: 'statusBarItem.warningBackground',
        command: 'coderev.showOutput',
      };
    }
    case 'failed':
      return {
        text: '$(error) coderev',
        tooltip: `coderev: ${state.reason}. Click to restart.${suffix}`,
        background: 'statusBarItem.errorBackground',
        command: 'coderev.restartServer',
      };
    case 'stopped':
      return { text: '$(circle-slash) coderev', tooltip: `coderev: stopped. Click to start.${suffix}`,
        command: 'coderev.restartServer' };
  }
}
