import { CallRecord, type MonitorContext } from './call.js'
import { errorText, reportFault } from './faults.js'
import { watchSseBody } from './sse-body.js'
import type { Adapter, CallSpec, RequestInfo } from './types.js'

/**
 * The proxy core. Only the method chains an adapter names are intercepted; every other property is read
 * from the real object and every other method runs with the real object as `this` (SDK clients keep
 * state in `#private` fields, which a proxy as `this` cannot reach).
 */

/** One level of an adapter's method paths: `messages` → { `create` → call }. */
interface PathNode {
  call?: { spec: CallSpec; path: string }
  /** The path of a helper (`messages.stream`): calls it makes are recorded under this name. */
  helper?: string
  children?: Map<string, PathNode>
}

/** Builds the tree of an adapter's paths once, in `monitor()`. @internal */
export function pathTree(adapter: Adapter): PathNode {
  const root: PathNode = {}
  const nodeAt = (path: string): PathNode => {
    let node = root
    for (const part of path.split('.')) {
      node.children ??= new Map()
      let next = node.children.get(part)
      if (!next) node.children.set(part, (next = {}))
      node = next
    }
    return node
  }
  for (const [path, spec] of Object.entries(adapter.calls)) nodeAt(path).call = { spec, path }
  for (const path of adapter.helpers ?? []) nodeAt(path).helper = path
  return root
}

/**
 * Every proxy this package made, to its real object and the monitor it records for: `monitor(monitor(c))`
 * stays one layer. @internal
 */
export const layerOf = new WeakMap<object, { real: object; ctx: MonitorContext }>()

/** The client a tree of proxies belongs to: a resource's `_client` back-reference leads to its proxy. */
interface Root {
  real: object
  proxy: object
}

/**
 * Wraps one object of a client. `proxies` caches the proxy of each real object, so the same resource is
 * always the same proxy (`client.messages === client.messages`).
 * @internal
 */
export function wrapObject(
  target: object,
  node: PathNode,
  ctx: MonitorContext,
  proxies: WeakMap<object, object>,
  parentRoot?: Root,
): object {
  const cached = proxies.get(target)
  if (cached) return cached
  // Per-property cache of the functions handed out, so a method read twice is the same function.
  const methods = new Map<PropertyKey, { real: Function; wrapped: Function }>()
  const proxy: object = new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj)
      if (typeof value === 'function') {
        if (prop === 'constructor') return value
        const hit = methods.get(prop)
        if (hit && hit.real === value) return hit.wrapped
        const child = typeof prop === 'string' ? node.children?.get(prop) : undefined
        const wrapped = child?.call
          ? interceptCall(value, obj, proxy, child.call.spec, child.call.path, ctx)
          : child?.helper
            ? runAsMonitored(value, obj, proxy, child.helper)
            : bindToReal(value, obj, proxy, parentRoot ? undefined : (result) => rewrapClone(result, obj, node, ctx, proxies))
        methods.set(prop, { real: value, wrapped })
        return wrapped
      }
      if (value !== null && typeof value === 'object') {
        // A resource's back-reference to its client (`messages._client`) leads to the monitored client, so
        // that helpers running on the monitored resource (`stream()`, tool runners) make monitored calls.
        if (value === root.real) return root.proxy
        const child = typeof prop === 'string' ? node.children?.get(prop) : undefined
        if (child?.children) return wrapObject(value, child, ctx, proxies, root)
      }
      return value
    },
    // A setter runs on the real object too (it may write a `#private` field).
    set(obj, prop, value) {
      return Reflect.set(obj, prop, value, obj)
    },
  })
  const root: Root = parentRoot ?? { real: target, proxy }
  proxies.set(target, proxy)
  layerOf.set(proxy, { real: target, ctx })
  return proxy
}

/** A method that is not an LLM call: runs on the real object, exactly as on the bare client. */
function bindToReal(fn: Function, real: object, proxy: object, after?: (result: unknown) => unknown): Function {
  return shapedLike(fn, function (this: unknown, ...args: unknown[]) {
    const result = Reflect.apply(fn, this === proxy ? real : this, args)
    return after ? after(result) : result
  })
}

/** The function handed out in place of `fn` carries its `name` and `length` (`messages.create.name` is 'create'). */
function shapedLike(fn: Function, wrapped: Function): Function {
  try {
    Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true })
    Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true })
  } catch {
    // A `name` or `length` getter that throws: the wrapper keeps its own.
  }
  return wrapped
}

/** `client.withOptions()` and the like return a new client of the same class: it is monitored too. */
function rewrapClone(
  result: unknown,
  real: object,
  node: PathNode,
  ctx: MonitorContext,
  proxies: WeakMap<object, object>,
): unknown {
  if (
    result !== null &&
    typeof result === 'object' &&
    result !== real &&
    Object.getPrototypeOf(result) === Object.getPrototypeOf(real) &&
    !layerOf.has(result)
  ) {
    return wrapObject(result, node, ctx, proxies)
  }
  return result
}

/**
 * The helper running right now, synchronously (`messages.parse()` and `messages.stream()` call `create`
 * before they return): that `create` is recorded under the helper's name. A call made later (from an event
 * handler, after an `await`) is not inside the helper and keeps its own name.
 */
let activeHelper: string | undefined

/** A helper such as `messages.stream()`: it runs with the monitored object as `this`, so the calls it makes are seen. */
function runAsMonitored(fn: Function, real: object, proxy: object, path: string): Function {
  return shapedLike(fn, function (this: unknown, ...args: unknown[]) {
    const outer = activeHelper
    activeHelper = path
    try {
      return Reflect.apply(fn, this === proxy || this === real ? proxy : this, args)
    } finally {
      activeHelper = outer
    }
  })
}

/** An LLM call: record its start, block it or send it, then watch its result to the single closing event. */
function interceptCall(
  fn: Function,
  real: object,
  proxy: object,
  spec: CallSpec,
  path: string,
  ctx: MonitorContext,
): Function {
  return shapedLike(fn, function (this: unknown, ...args: unknown[]) {
    const self = this === proxy ? real : this
    let request: RequestInfo
    let unread: string | undefined
    try {
      request = spec.request(args, { scanHistory: ctx.scanHistory })
      if (request === null || typeof request !== 'object') throw new AdapterMistake(`request() returned ${request === null ? 'null' : typeof request}, not a RequestInfo object`)
      if (typeof (request as Partial<PromiseLike<unknown>>).then === 'function') {
        // An `async request()` resolves after the call is sent: too late to scan or block it. Its
        // rejection, if any, must not surface as the application's unhandled rejection.
        Promise.resolve(request).then(undefined, () => {})
        throw new AdapterMistake('request() returned a promise; it must return its RequestInfo synchronously')
      }
      // Read once, here: a field whose getter throws is the adapter's fault, not the user's call's.
      const { model, params, texts, stream, method } = request
      request = { model, params, texts, stream, method }
    } catch (error) {
      // The adapter could not read the call: it still goes out as the user made it, and it is still on
      // record (start and closing events, marked unscanned), rather than silently missing from the log.
      const problem = error instanceof AdapterMistake ? error.message : `request() threw: ${errorText(error)}`
      unread = `adapter '${ctx.adapter}', call '${path}': ${problem} (not scanned)`
      reportFault('adapter', new TypeError(ctx.recorder.mask(unread)))
      request = fallbackRequest(args)
    }
    const call = new CallRecord(ctx, spec, path, request.method ?? activeHelper ?? path, request, unread)
    // The helper's own `create` is this one; anything it starts from here on is a call of its own.
    activeHelper = undefined
    const blocked = call.start()
    if (blocked) return rejected(blocked)
    let result: unknown
    try {
      result = Reflect.apply(fn, self, args)
    } catch (error) {
      call.error(error)
      throw error
    }
    return observeResult(result, call, request.stream === true)
  })
}

/** Something an adapter's request() returned that cannot be read (its message says what). */
class AdapterMistake extends Error {}

/** What is known of a call whose adapter threw: its first argument as given, and whether it streams. */
function fallbackRequest(args: unknown[]): RequestInfo {
  const params = args[0]
  let stream = false
  try {
    stream = Boolean((params as { stream?: unknown } | null | undefined)?.stream)
  } catch {
    // A getter that throws: the client will say so.
  }
  return { params, texts: [], stream }
}

/**
 * A blocked call returns a rejected promise, as the SDK's methods report every failure. The `APIPromise`
 * methods that users and the SDKs' own helpers call on it are there too (`parse()` helpers chain with
 * `_thenUnwrap`, message threads read `_responseProps`), each giving the same rejection, so every path
 * fails with the `MonitorBlockedError` rather than a TypeError.
 */
function rejected(error: Error): Promise<never> {
  const promise = Promise.reject(error)
  // The SDK's APIPromise rejects only once it is awaited: a blocked call awaited later (after another
  // `await`) or never must not be an unhandled rejection where the bare client's failure would not be.
  promise.catch(() => {})
  const same = () => promise
  return Object.assign(promise, { withResponse: same, asResponse: same, parse: same, _thenUnwrap: same, _responseProps: same })
}

interface SdkApiPromise {
  responsePromise: Promise<{ response?: { status?: number; headers?: { get(name: string): string | null } } }>
  parseResponse: (client: unknown, props: unknown) => unknown
  parsedPromise?: unknown
  asResponse: () => Promise<unknown>
  /** Anthropic's: the response before its body is parsed, read by message threads. */
  _responseProps?: () => Promise<{ response?: unknown; controller?: { signal?: unknown } }>
}

function isSdkApiPromise(value: unknown): value is SdkApiPromise {
  const v = value as Partial<SdkApiPromise> | null
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof v.parseResponse === 'function' &&
    typeof v.asResponse === 'function' &&
    typeof (v.responsePromise as Promise<unknown> | undefined)?.then === 'function'
  )
}

/** Which kind of value a call returned; a value whose fields cannot be looked at is a plain value. */
function kindOf(result: unknown): 'api-promise' | 'thenable' | 'value' {
  try {
    if (isSdkApiPromise(result)) return 'api-promise'
    return result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function' ? 'thenable' : 'value'
  } catch {
    return 'value'
  }
}

function observeResult(result: unknown, call: CallRecord, stream: boolean): unknown {
  const kind = kindOf(result)
  if (kind === 'api-promise') return observeApiPromise(result as SdkApiPromise, call, stream)
  if (kind === 'thenable') {
    try {
      return (result as Promise<unknown>).then(
        (value) => settle(value, call, stream),
        (error: unknown) => {
          call.error(error)
          throw error
        },
      )
    } catch (error) {
      // A thenable whose then() throws: the application gets it as the bare client gives it (its await
      // fails the same way), and the call is recorded as failed.
      call.error(error)
      return result
    }
  }
  return settle(result, call, stream)
}

/** The call's value arrived: a stream to watch, or a response to record. */
function settle(value: unknown, call: CallRecord, stream: boolean, extra?: Record<string, unknown>): unknown {
  if (stream && isAsyncIterable(value)) {
    if (call.beginStream()) watchStream(value, call, extra)
    return value
  }
  const blocked = call.finish(value, extra)
  if (blocked) throw blocked
  return value
}

/**
 * The SDKs' `APIPromise` is returned as it is (its helpers depend on it): the monitor hooks the two
 * fields it reads, the response (status, or the error the client threw) and the body parser, and the two
 * methods that hand out the raw response. When the call's response is parsed, the parser is put back and
 * the hooks let go of the call: V8 may have put the promise in the old generation, and while it points at
 * a call every young-generation GC keeps the call and what it holds alive until the next full GC
 * (measured: 3.7 KB promoted per call, and twice the GC time, before this was done). The two method hooks
 * stay on the promise, passing straight through: taking them off costs two `defineProperty` calls a call.
 */
function observeApiPromise(promise: SdkApiPromise, observed: CallRecord, stream: boolean): SdkApiPromise {
  /** The call, until its response is parsed. */
  let call: CallRecord | undefined = observed
  let parsing = false
  const parsed = () => parsing || promise.parsedPromise !== undefined
  // A side branch, not a replacement: the promise the SDK's helpers read stays the SDK's own, and no
  // rejection is created that the user would have to handle. A response that arrives with no parse begun
  // (a call nobody awaits) still gets its closing event, without its body being read.
  promise.responsePromise.then((props) => {
    if (call && !parsed()) call.closeUnparsed('unread', responseFacts(props), parsed, () => bodyUsed(props))
  }, observed.recordError)
  const parse = promise.parseResponse
  const asResponse = promise.asResponse
  const responseProps = promise._responseProps
  /** The response is being parsed: the parser is put back and the hooks let go of the call. */
  const release = (): void => {
    if (promise.parseResponse === parseHook) promise.parseResponse = parse
    call = undefined
  }
  /** The first parse through the hook: it closes the call. */
  let first: Promise<unknown> | undefined
  const parseHook = function (this: unknown, client: unknown, props: unknown): unknown {
    const current = call
    // A parser read off the promise earlier and called after the parse (the SDK calls it once).
    if (!current) return parse.call(this, client, props)
    if (first) {
      // Another parse of the same response while the first runs (`_thenUnwrap()` and the promise itself
      // both awaited): the first closes the call; this one's failure is its own (the body is read once).
      // A value it gets is judged all the same once the call is closed; a stream of its own, which reads the
      // same body, is watched for the same call (whichever stream is read closes it).
      const own = first.then(undefined, () => undefined)
      return Promise.resolve(parse.call(this, client, props)).then(async (value) => {
        await own
        if (stream && isAsyncIterable(value)) {
          watchStream(value, current, requestId(undefined, props))
          return value
        }
        const blocked = current.judgeAgain(value)
        if (blocked) throw blocked
        return value
      })
    }
    parsing = true
    let parsedValue: unknown
    try {
      parsedValue = parse.call(this, client, props)
    } catch (error) {
      release()
      return current.onFailure(error)
    }
    first = Promise.resolve(parsedValue).then(
      (value) => {
        // A parsed body is read: the call is let go of. A stream's body is read only when the stream is:
        // until then another parse, or a raw read, may read it instead, and is watched for the call.
        if (!stream) release()
        // The SDKs put the request id on what they parse; a stream has only the header's.
        const id = (value as { _request_id?: unknown } | null)?._request_id
        return settle(value, current, stream, requestId(typeof id === 'string' ? id : undefined, props))
      },
      (error: unknown) => {
        release()
        return current.onFailure(error)
      },
    )
    return first
  }
  // `.asResponse()` hands the raw body to the user, and `_responseProps()` to whoever parses it (a message
  // thread's stream parses it itself); unless this promise's own parse starts too, the call still gets its
  // closing event, as a raw response. The hooks are own, non-enumerable properties: the promise's keys and
  // prototype stay as the SDK made them.
  const rawRead = <T>(read: () => Promise<T>, propsOf: (value: T) => unknown) =>
    function (this: SdkApiPromise): Promise<T> {
      if (!call) return read.call(this)
      return read.call(this).then((value) => {
        if (call && !parsed()) call.closeUnparsed('raw', responseFacts(propsOf(value)), parsed)
        return value
      })
    }
  const asResponseHook = rawRead(asResponse, (response) => ({ response }))
  // A streamed thread turn: the thread parses the body itself, so the monitor reads it on its way there.
  const watchedProps = (read: () => Promise<{ response?: unknown; controller?: { signal?: unknown } }>) =>
    function (this: SdkApiPromise): Promise<unknown> {
      if (!call) return read.call(this)
      return read.call(this).then((props) => {
        const signal = props?.controller?.signal
        // Even after a parse (it made a stream nobody has read yet), a body not read yet is watched here.
        if (!call || bodyUsed(props)) return props
        if (watchSseBody(props, call, signal instanceof AbortSignal ? signal : undefined, responseFacts(props))) {
          // The body is watched on its way to whoever reads it: a parse of this promise later reads the same
          // watched body (its chunks are not counted twice), so it runs as the SDK's own.
          parsing = true
          release()
        } else call.closeUnparsed('raw', responseFacts(props), parsed)
        return props
      })
    }
  const responsePropsHook = typeof responseProps !== 'function' ? undefined : stream ? watchedProps(responseProps) : rawRead(responseProps, (props) => props)
  promise.parseResponse = parseHook
  Object.defineProperty(promise, 'asResponse', { configurable: true, writable: true, value: asResponseHook })
  if (responsePropsHook) Object.defineProperty(promise, '_responseProps', { configurable: true, writable: true, value: responsePropsHook })
  return promise
}

/** What a response says without its body being read: its status and request id. */
function responseFacts(props: unknown): Record<string, unknown> {
  const status = (props as { response?: { status?: unknown } } | null)?.response?.status
  return { ...requestId(undefined, props), ...(typeof status === 'number' ? { status } : {}) }
}

/** `{ request_id }` from the parsed value's id, else from the response's headers; undefined when neither has one. */
function requestId(parsedId: string | undefined, props: unknown): Record<string, unknown> | undefined {
  if (parsedId) return { request_id: parsedId }
  try {
    const headers = (props as { response?: { headers?: { get(name: string): string | null } } } | null)?.response?.headers
    const id = headers?.get('request-id') ?? headers?.get('x-request-id')
    return id ? { request_id: id } : undefined
  } catch {
    return undefined
  }
}

/** Whether the response's body was read (by anyone: the monitor reads it only through a parse it hooked). */
function bodyUsed(props: unknown): boolean {
  try {
    return (props as { response?: { bodyUsed?: unknown } } | null)?.response?.bodyUsed === true
  } catch {
    return false
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
}

/**
 * Watches a stream's chunks as the user reads them. The stream object stays the SDK's own; only its
 * iterator is observed, which `for await`, `tee()` and `toReadableStream()` all go through.
 */
function watchStream(stream: AsyncIterable<unknown>, call: CallRecord, extra?: Record<string, unknown>): void {
  const iterate = stream[Symbol.asyncIterator]
  const controller = (stream as { controller?: unknown }).controller
  // A stream whose controller was aborted (by the application, a `break`, a timeout) ends early without an
  // error: it was left, not cut short by the service.
  const aborted = () => controller instanceof AbortController && controller.signal.aborted
  // Shared by every stream of the call (two parses of one response give two streams of one body).
  const readers: Readers = (call.readers ??= { open: 0 })
  try {
    Object.defineProperty(stream, Symbol.asyncIterator, {
      configurable: true,
      writable: true,
      value: function (this: AsyncIterable<unknown>) {
        return observedIterator(iterate.call(this), call, readers, extra, aborted)
      },
    })
  } catch (error) {
    // A frozen stream (or one whose iterator is fixed) cannot be watched: it goes to the user untouched.
    call.unwatchable(error)
    return
  }
  // A stream aborted through its controller before (or without) being read still gets its closing event.
  // It waits a turn: when the abort comes from the SDK itself (a `break`, an error mid-stream), the
  // iterator's own end or error is recorded first, and this is a no-op.
  if (controller instanceof AbortController) afterAbort(controller, () => setTimeout(() => call.endStream(true, extra), 0))
}

/**
 * Runs `onAbort` once, after the abort that aborts `controller`'s signal. Its `abort` method is wrapped on
 * the instance (an own, non-enumerable property, passing every call through), not listened to on the signal:
 * `addEventListener` on an AbortSignal costs 2–5 µs, as much as the rest of the stream's watching (bench/
 * overhead.mjs). The signal of an AbortController is aborted only by its `abort()`: the SDK's own (a
 * timeout, a `signal` option passed on, a `break`) and the application's calls all go through it. A
 * controller whose method cannot be replaced (frozen) is listened to instead.
 */
function afterAbort(controller: AbortController, onAbort: () => void): void {
  const abort = controller.abort
  let fired = false
  const wrapped = function (this: unknown, reason?: unknown): void {
    const before = fired || controller.signal.aborted
    try {
      Reflect.apply(abort, this, [reason])
    } finally {
      if (!before && controller.signal.aborted) {
        fired = true
        onAbort()
      }
    }
  }
  try {
    Object.defineProperty(controller, 'abort', { configurable: true, writable: true, value: shapedLike(abort, wrapped) })
  } catch {
    controller.signal.addEventListener('abort', onAbort, { once: true })
  }
}

/** How many iterators of one stream are being read (started, not finished). */
interface Readers {
  open: number
}

function observedIterator(
  inner: AsyncIterator<unknown>,
  call: CallRecord,
  readers: Readers,
  extra: Record<string, unknown> | undefined,
  aborted: () => boolean,
): AsyncIterableIterator<unknown> {
  // 0: not read yet, 1: reading, 2: ended. `delivered`: this iterator handed out a chunk.
  let state = 0
  let delivered = false
  const end = () => {
    if (state === 1) readers.open--
    state = 2
  }
  const onNext = (step: IteratorResult<unknown>): IteratorResult<unknown> => {
    if (!step.done) {
      const blocked = call.chunk(step.value, extra)
      if (blocked) {
        // The chunk completes a dangerous tool call: it is not delivered, and the stream is closed.
        end()
        void Promise.resolve()
          .then(() => inner.return?.())
          .catch(() => {})
        throw blocked
      }
      delivered = true
      return step
    }
    end()
    const blocked = call.endStream(aborted(), extra)
    if (blocked) throw blocked
    return step
  }
  const onError = (error: unknown): never => {
    // A second reader of a stream another loop is reading fails at once (the SDK refuses a consumed
    // stream): that is this reader's error, not the call's, which the first loop is still reading.
    const ownError = !delivered && readers.open > 1
    end()
    if (!ownError) call.error(error)
    throw error
  }
  return {
    next: (...args: [] | [unknown]) => {
      if (state === 0) {
        state = 1
        readers.open++
      }
      return inner.next(...args).then(onNext, onError)
    },
    return: (value?: unknown) => {
      end()
      // Left early (a `break` on `message_stop`): what was read is judged all the same, and a dangerous
      // response throws from the loop, as it would at the stream's end.
      const blocked = call.endStream(true, extra)
      const closed = inner.return ? inner.return(value) : Promise.resolve({ done: true as const, value })
      return blocked ? Promise.resolve(closed).then(() => Promise.reject(blocked), () => Promise.reject(blocked)) : closed
    },
    throw: (error?: unknown) => {
      end()
      call.error(error)
      return inner.throw ? inner.throw(error) : Promise.reject(error)
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
}
