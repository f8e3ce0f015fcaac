import { recordedCopy } from './recorder.js'
import type { MonitorEvent, RuleMatch } from './types.js'

/** Base class of every error cylestio-monitor throws; `code` is stable across versions. */
export class CylestioError extends Error {
  override name = 'CylestioError'
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** A dangerous request (or, with `blockDangerousResponses`, response) was stopped. */
export class MonitorBlockedError extends CylestioError {
  override name = 'MonitorBlockedError'
  /** The `LLM_call_blocked` event (or the finish event of a blocked response), as recorded: a copy of its line. */
  readonly event: MonitorEvent
  constructor(
    /** The rules that fired. */
    readonly matches: RuleMatch[],
    event: MonitorEvent,
    message = `cylestio-monitor blocked a dangerous ${event.event === 'LLM_call_blocked' ? 'request' : 'response'}: ${matches
      .filter((m) => m.severity === 'dangerous')
      .map((m) => `${m.rule_id} (${m.target})`)
      .join(', ')}`,
  ) {
    super('MONITOR_BLOCKED', message)
    this.event = recordedCopy(event)
  }
}

/** A rule file is malformed. `file`, `line` and `ruleId` say where. */
export class RuleError extends CylestioError {
  override name = 'RuleError'
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly ruleId?: string,
  ) {
    super('RULE_INVALID', `${file}${line ? `:${line}` : ''}${ruleId ? ` (rule ${ruleId})` : ''}: ${message}`)
  }
}
