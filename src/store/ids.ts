import { randomFillSync } from 'node:crypto';

/** A UUID as this service writes them (lower-case hex): what an id in a path must look like before it is looked up. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An RFC 9562 version 7 UUID: 48 bits of Unix milliseconds, then 74 random bits.
 *
 * Stamps and their outputs are keyed by id, and both tables keep a B-tree in id order. Random (v4)
 * ids put each new row on a random leaf page of those trees: once a year's stamps no longer fit in the
 * cache, every stamp reads two leaf pages from disk and writes two whole pages to the log in its
 * commit. Ids that grow with time land on the last page, which the stamps of one commit share.
 * The 74 random bits keep them as hard to guess as before for anyone without the time; the
 * time they give away is the record's created_at, which whoever may read the stamp sees anyway.
 */
export function timeOrderedUuid(now = Date.now()): string {
  const bytes = randomFillSync(Buffer.allocUnsafe(16));
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
