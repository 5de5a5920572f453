/**
 * JSON Merge Patch (RFC 7396): a patch object names the members to change; null removes a member,
 * an object is merged member by member, anything else replaces. Built with Object.fromEntries so a
 * member named "__proto__" stays a plain member (and is then refused as an unknown field), never a
 * prototype.
 */
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out = new Map<string, unknown>(isObject(target) ? Object.entries(target) : []);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) out.delete(key);
    else out.set(key, applyMergePatch(out.get(key), value));
  }
  return Object.fromEntries(out);
}
