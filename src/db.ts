/**
 * `cylestio-monitor/db`: the queries over the event log and the lowdb adapter for its format.
 *
 * @example
 * import { getEventsByChannel, JsonlEventFile } from 'cylestio-monitor/db'
 */
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
} from './store/queries.js'
export { JsonlEventFile } from './store/jsonl-event-file.js'
