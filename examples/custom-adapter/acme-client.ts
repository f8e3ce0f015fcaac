/**
 * A small LLM client we did not write the monitor for: its own method names (`chat.send`), its own
 * request and result shapes, credentials in a `#private` field, and HTTP errors of its own class.
 */

export interface AcmeChatRequest {
  model: string
  prompt: string
  system?: string
  maxTokens?: number
}

export interface AcmeChatResult {
  id: string
  model: string
  text: string
  tokensIn: number
  tokensOut: number
}

export class AcmeError extends Error {
  override name = 'AcmeError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export interface AcmeClientOptions {
  apiKey: string
  baseURL?: string
  fetch?: typeof fetch
}

export class AcmeClient {
  readonly #apiKey: string
  readonly baseURL: string
  readonly #fetch: typeof fetch

  readonly chat = {
    /** One answer to one prompt. */
    send: (request: AcmeChatRequest): Promise<AcmeChatResult> => this.#post('/v1/chat', request),
  }

  constructor({ apiKey, baseURL = 'https://api.acme.example', fetch: f = fetch }: AcmeClientOptions) {
    this.#apiKey = apiKey
    this.baseURL = baseURL
    this.#fetch = f
  }

  /** Not an LLM call: lists the models (the monitor passes it through). */
  async models(): Promise<string[]> {
    const response = await this.#fetch(`${this.baseURL}/v1/models`, { headers: this.#headers() })
    return ((await response.json()) as { models: string[] }).models
  }

  #headers(): Record<string, string> {
    return { authorization: `Bearer ${this.#apiKey}`, 'content-type': 'application/json' }
  }

  async #post<T>(path: string, body: unknown): Promise<T> {
    const response = await this.#fetch(`${this.baseURL}${path}`, { method: 'POST', headers: this.#headers(), body: JSON.stringify(body) })
    if (!response.ok) throw new AcmeError(response.status, ((await response.json()) as { message: string }).message)
    return (await response.json()) as T
  }
}
