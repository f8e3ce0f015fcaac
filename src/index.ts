export { monitor } from './monitor.js'
export { CylestioError, MonitorBlockedError, RuleError } from './errors.js'
export { getMonitorHealth, type MonitorHealth } from './faults.js'
export { loadRules, RuleSet, defaultRulesDir } from './rules/index.js'
export { anthropicAdapter, openaiAdapter } from './adapters/index.js'
export { flush, JsonlEventLog, type JsonlEventLogOptions } from './store/index.js'
export * from './db.js'
export type {
  Adapter,
  Alert,
  CallSpec,
  EventName,
  EventSink,
  MonitorEvent,
  MonitorOptions,
  RequestInfo,
  ResponseInfo,
  RuleMatch,
  RuleSetLike,
  ScanResult,
  Severity,
  StreamAccumulator,
  Target,
  TextPart,
} from './types.js'
