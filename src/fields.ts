/**
 * Copying fields into the objects the monitor records, as `JSON.stringify` will read them: a field named
 * `__proto__` stays a field (a plain assignment would set the prototype and lose it), and a `toJSON` function
 * is not carried over (the serialiser would write what it returns in place of the whole object).
 * @internal
 */

/** `target[key] = value`, a `__proto__` key made an own field. */
export function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/**
 * Copies `source`'s own enumerable fields onto `target`, as a spread would, but for a `toJSON` function.
 * Keys in `own` are the monitor's own fields, already on `target`: they keep their value, and a source value
 * that differs is put in `shadowed` (returned, created when needed) rather than lost.
 */
export function addFields(
  target: Record<string, unknown>,
  source: Record<string, unknown> | null | undefined,
  own?: ReadonlySet<string>,
  shadowed?: Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (source === undefined || source === null) return shadowed
  for (const key of Object.keys(source)) {
    const value = source[key]
    if (key === 'toJSON' && typeof value === 'function') continue
    if (own?.has(key) && Object.prototype.hasOwnProperty.call(target, key)) {
      if (value !== undefined && !Object.is(target[key], value)) setField((shadowed ??= {}), key, value)
      continue
    }
    setField(target, key, value)
  }
  return shadowed
}
