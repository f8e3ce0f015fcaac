import { anthropicAdapter } from './anthropic.js'
import { openaiAdapter } from './openai.js'
import type { Adapter } from '../types.js'

/** Adapters tried, in order, after the ones passed in `options.adapters`. @internal */
export const builtinAdapters: readonly Adapter[] = [anthropicAdapter, openaiAdapter]

export { anthropicAdapter, openaiAdapter }
