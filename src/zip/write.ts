/**
 * A minimal ZIP writer (PKWARE APPNOTE 6.3): STORE method only — signed PDFs must reach the client
 * byte for byte, and they hardly compress — UTF-8 names (flag bit 11), no ZIP64 (outputs are bounded
 * by the upload limit, far below 4 GB).
 */
import { crc32 } from 'node:zlib';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const UTF8_NAMES = 0x0800;
const LIMIT = 0xffffffff;

function dosDateTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: (Math.max(0, d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/**
 * The run of fields the local header and the central directory record share (APPNOTE 4.3.7 and 4.3.12):
 * flags, method (STORE), DOS time and date, CRC-32, both sizes and the name length.
 */
function writeEntryFields(buf: Buffer, at: number, f: { time: number; date: number; crc: number; size: number; nameLength: number }): void {
  buf.writeUInt16LE(UTF8_NAMES, at);
  buf.writeUInt16LE(0, at + 2);
  buf.writeUInt16LE(f.time, at + 4);
  buf.writeUInt16LE(f.date, at + 6);
  buf.writeUInt32LE(f.crc, at + 8);
  buf.writeUInt32LE(f.size, at + 12);
  buf.writeUInt32LE(f.size, at + 16);
  buf.writeUInt16LE(f.nameLength, at + 20);
}

export function zip(entries: readonly ZipEntry[], modified = new Date()): Buffer {
  const { time, date } = dosDateTime(modified);
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const crc = crc32(entry.data);
    const size = entry.data.length;
    if (size > LIMIT || offset > LIMIT) throw new RangeError('ZIP archive over 4 GB needs ZIP64, which this writer does not do');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0
    writeEntryFields(local, 6, { time, date, crc, size, nameLength: name.length });
    local.writeUInt16LE(0, 28);
    chunks.push(local, name, Buffer.from(entry.data.buffer, entry.data.byteOffset, size));

    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(0x0314, 4); // made by: UNIX, 2.0
    header.writeUInt16LE(20, 6);
    writeEntryFields(header, 8, { time, date, crc, size, nameLength: name.length });
    // extra length, comment length, disk number, internal attributes: 0
    header.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
    header.writeUInt32LE(offset, 42);
    central.push(header, name);
    offset += local.length + name.length + size;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, ...central, end]);
}
