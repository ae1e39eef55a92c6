/** What the status bar item shows for each state of the server and of its model. Pure module, unit-tested under node. */

export type ServerState =
  | { kind: 'starting' }
  | { kind: 'running'; version?: string }
  | { kind: 'restarting'; inMs: number; crashes: number }
  | { kind: 'failed'; reason: string }
  | { kind: 'stopped' };

/** The server's `coderev/modelStatus` notification: the classifier loading, loaded, unavailable (and why), or off. */
export type ModelStatus =
  | { state: 'loading' }
  | { state: 'loaded'; adapter?: string; variant?: string }
  | { state: 'unavailable'; reason: string }
  | { state: 'off' };

/** The method of the server's model status notification. */
export const MODEL_STATUS = 'coderev/modelStatus';

export interface StatusView {
  text: string;
  tooltip: string;
  /** Background colour theme id for states that need attention, else undefined. */
  background?: 'statusBarItem.warningBackground' | 'statusBarItem.errorBackground';
  /** The command a click runs. */
  command: string;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/** The model status in a notification's params, or undefined when they are not one (never throws). */
export function parseModelStatus(params: unknown): ModelStatus | undefined {
  if (typeof params !== 'object' || params === null) {
    return undefined;
  }
  const fields = params as Record<string, unknown>;
  switch (fields.state) {
    case 'loading':
    case 'off':
      return { state: fields.state };
    case 'loaded':
      return { state: 'loaded', adapter: text(fields.adapter), variant: text(fields.variant) };
    case 'unavailable':
      return { state: 'unavailable', reason: text(fields.reason) ?? 'no reason given' };
    default:
      return undefined;
  }
}

/** One tooltip line about the model. */
function modelLine(model: ModelStatus): string {
  switch (model.state) {
    case 'loading':
      return 'model: loading (the rules answer meanwhile)';
    case 'loaded': {
      const detail = [model.adapter && `adapter ${model.adapter}`, model.variant].filter(Boolean).join(', ');
      return `model: loaded${detail ? ` (${detail})` : ''}`;
    }
    case 'unavailable':
      return `model: unavailable (${model.reason}); diagnostics come from the rules alone`;
    case 'off':
      return 'model: off (rules only)';
  }
}

/** The running server's item, with the model's state when the server has reported it. */
function runningView(version: string | undefined, model: ModelStatus | undefined, suffix: string): StatusView {
  const server = `coderev ${version ?? ''}: running`.replace('  ', ' ');
  const view: StatusView = {
    text: '$(shield) coderev',
    tooltip: `${server}${model ? `\n${modelLine(model)}` : ''}${suffix}`,
    command: 'coderev.showOutput',
  };
  if (model?.state === 'loading') {
    view.text = '$(shield) coderev $(loading~spin)';
  } else if (model?.state === 'unavailable') {
    view.text = '$(shield) coderev $(warning)';
    view.background = 'statusBarItem.warningBackground';
  } else if (model?.state === 'off') {
    view.text = '$(shield) coderev (rules)';
  }
  return view;
}

/** The status bar item for `state`; `detail` (the server command line) goes in the tooltip, `model` (the last
 * modelStatus the running server sent) in the text and tooltip. */
export function statusView(state: ServerState, detail = '', model?: ModelStatus): StatusView {
  const suffix = detail ? `\n${detail}` : '';
  switch (state.kind) {
    case 'starting':
      return { text: '$(sync~spin) coderev', tooltip: `coderev: starting the server${suffix}`,
        command: 'coderev.showOutput' };
    case 'running':
      return runningView(state.version, model, suffix);
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
