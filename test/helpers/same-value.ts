/**
 * Deep equality for decoded CBOR values, stricter than `toStrictEqual` where decoders can differ
 * and laxer where it misleads: same prototypes, same own keys in the same order, byte arrays by
 * content, primitives by `Object.is` (so -0 differs from 0); an own `constructor` key is data.
 */
export function expectSameValue(a: unknown, b: unknown, path = '$'): void {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    if (!Object.is(a, b)) throw new Error(`${path}: ${String(a)} !== ${String(b)}`);
    return;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) throw new Error(`${path}: prototypes differ`);
  if (a instanceof Uint8Array) {
    if (!Buffer.from(a).equals(Buffer.from(b as Uint8Array))) throw new Error(`${path}: bytes differ`);
    return;
  }
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.join('\u0000') !== kb.join('\u0000')) throw new Error(`${path}: keys ${ka.join()} vs ${kb.join()}`);
  for (const k of ka) {
    const key = k as string;
    expectSameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
  }
}
