// In an application: `import type { Adapter } from 'cylestio-monitor'`.
import type { Adapter } from '../../src/index.js'
import { AcmeClient, type AcmeChatRequest, type AcmeChatResult } from './acme-client.js'

/**
 * Tells cylestio-monitor how to read `AcmeClient`: which method is an LLM call (`chat.send`), what of its
 * arguments to record and scan, and where usage and the answer are in its result. Every other method
 * (`models()`) passes straight through to the client.
 */
export const acmeAdapter: Adapter = {
  name: 'acme',
  match: (client) => client instanceof AcmeClient,
  calls: {
    'chat.send': {
      request: (args) => {
        const req = args[0] as AcmeChatRequest
        return {
          model: req.model,
          params: req,
          texts: [
            ...(req.system ? [{ target: 'system' as const, text: req.system }] : []),
            { target: 'user' as const, text: req.prompt },
          ],
        }
      },
      response: (result) => {
        const r = result as AcmeChatResult
        return {
          response: r,
          usage: { input_tokens: r.tokensIn, output_tokens: r.tokensOut },
          texts: [{ target: 'response', text: r.text }],
        }
      },
    },
  },
}
