/** Walking the inputs the mocks recorded: secrets arrive wrapped, assets as objects. */
import * as pulumi from '@pulumi/pulumi';

export function isSecretWrapper(v: unknown): v is { value: unknown } {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
}

/** The value with every secret wrapper replaced by what it holds. */
export function unwrap(v: unknown): any {
  if (isSecretWrapper(v)) return unwrap(v.value);
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === 'object' && !(v instanceof Promise)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}

/** Calls `fn` for every string in `v`, saying whether it sits inside a secret. */
export function eachString(v: unknown, fn: (s: string, path: string, secret: boolean) => void, path = '', secret = false): void {
  if (typeof v === 'string') fn(v, path, secret);
  else if (isSecretWrapper(v)) eachString(v.value, fn, path, true);
  else if (Array.isArray(v)) v.forEach((x, i) => eachString(x, fn, `${path}[${i}]`, secret));
  else if (v && typeof v === 'object' && !(v instanceof Promise)) {
    for (const [k, x] of Object.entries(v)) eachString(x, fn, path ? `${path}.${k}` : k, secret);
  }
}
