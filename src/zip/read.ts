/**
 * A small ZIP reader for archive packages (PKWARE APPNOTE 6.3): the central directory is the list
 * of entries, each local header must agree with it, STORE and DEFLATE (node:zlib inflateRaw) are read,
 * the CRC-32 is checked (a mismatch marks the entry altered). Anything else — ZIP64, encryption, data between or overlapping entries,
 * duplicate names — is refused: a package that a reader could see two ways is not evidence.
 */
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipReadEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  data: Buffer;
  /** Offset of its local header: entries come in this order in the file. */
  offset: number;
  /** False when the data does not match its CRC-32 or size: the entry was altered. */
  intact: boolean;
}

export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

/** Uncompressed entries beyond this are refused (a zip bomb is not an archive package). */
const MAX_ENTRY_BYTES = 1024 * 1024 * 1024;
const MAX_ENTRIES = 100_000;

function endOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535.
  for (let p = zip.length - 22; p >= Math.max(0, zip.length - 22 - 0xffff); p--) {
    if (zip.readUInt32LE(p) === 0x06054b50 && p + 22 + zip.readUInt16LE(p + 20) === zip.length) return p;
  }
  throw new ZipFormatError('no end-of-central-directory record: not a ZIP file, or truncated');
}

export function readZip(zip: Buffer): ZipReadEntry[] {
  if (zip.length < 22) throw new ZipFormatError('too short to be a ZIP file');
  const eocd = endOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  const size = zip.readUInt32LE(eocd + 12);
  const start = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || start === 0xffffffff) throw new ZipFormatError('ZIP64 archives are not read');
  if (count > MAX_ENTRIES || start + size !== eocd) throw new ZipFormatError('the central directory is not where the end record says');
  const entries: ZipReadEntry[] = [];
  const names = new Set<string>();
  let p = start;
  for (let i = 0; i < count; i++) {
    if (p + 46 > eocd || zip.readUInt32LE(p) !== 0x02014b50) throw new ZipFormatError(`central directory entry ${i + 1} is damaged`);
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const compressed = zip.readUInt32LE(p + 20);
    const uncompressed = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const offset = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 0x0001) throw new ZipFormatError(`${name}: encrypted entries are not read`);
    if (method !== 0 && method !== 8) throw new ZipFormatError(`${name}: compression method ${method} is not supported`);
    if (names.has(name)) throw new ZipFormatError(`${name}: the name occurs twice`);
    if (uncompressed > MAX_ENTRY_BYTES) throw new ZipFormatError(`${name}: larger than ${MAX_ENTRY_BYTES} bytes`);
    names.add(name);
    if (offset + 30 > start || zip.readUInt32LE(offset) !== 0x04034b50) throw new ZipFormatError(`${name}: its local header is missing`);
    const localName = zip.subarray(offset + 30, offset + 30 + zip.readUInt16LE(offset + 26)).toString('utf8');
    if (localName !== name || zip.readUInt16LE(offset + 8) !== method) throw new ZipFormatError(`${name}: the local header does not match the central directory`);
    const dataStart = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28);
    if (dataStart + compressed > start) throw new ZipFormatError(`${name}: its data runs past the central directory`);
    const raw = zip.subarray(dataStart, dataStart + compressed);
    let data: Buffer;
    try {
      data = method === 0 ? Buffer.from(raw) : inflateRawSync(raw, { maxOutputLength: MAX_ENTRY_BYTES });
    } catch (e) {
      throw new ZipFormatError(`${name}: cannot be decompressed (${(e as Error).message})`);
    }
    entries.push({ name, method, data, offset, intact: data.length === uncompressed && crc32(data) === crc });
  }
  entries.sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1]!;
    if (entries[i]!.offset === prev.offset) throw new ZipFormatError(`${entries[i]!.name}: shares its data with ${prev.name}`);
  }
  return entries;
}
