/**
 * The event log: the JSONL sink, the lowdb adapter over the same format, and the queries.
 */
export { JsonlEventLog, type JsonlEventLogOptions } from './jsonl-event-log.js'
export { JsonlEventFile } from './jsonl-event-file.js'
export { resolveSink, flush, settleBeforeFlush, type StoreOption } from './sinks.js'
export type { LowdbLike } from './lowdb-sink.js'
export {
  getEventsByChannel,
  getEventsByType,
  getRecentEvents,
  getEventsByTimeframe,
  searchEvents,
  getAgentStats,
  cleanupOldEvents,
  type QueryOptions,
  type AgentStats,
} from './queries.js'
