import { anthropicAdapter } from './anthropic.js'
import type { Adapter } from '../types.js'

/** Adapters tried, in order, after the ones passed in `options.adapters`. @internal */
export const builtinAdapters: readonly Adapter[] = [anthropicAdapter]

export { anthropicAdapter }
