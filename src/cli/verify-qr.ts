import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { pemToDer } from '../pki/der.js';
import { VALIDITY_MS } from '../offline/signed-documents.js';
import { readStatusList } from '../offline/status-list.js';
import { readTrustList, trustListContent, type TrustList } from '../offline/trust-list.js';
import { QR_EXIT, verifyQr, type QrCheck } from '../offline/verify-qr.js';
import { openStore } from '../store/db.js';
import { getPkiKey } from '../store/pki.js';
import { printResult, UsageError, type CommandContext, type CommandRunner } from './command.js';

/** The QR text: the argument itself, or what zbarimg (zbar-tools) reads from the image file it names. */
function qrTextOf(arg: string): string {
  if (!existsSync(arg)) return arg;
  let out: string;
  try {
    out = execFileSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', arg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    throw new UsageError(`no QR code found in ${arg} (zbarimg from zbar-tools reads it)`);
  }
  return out.split('\n')[0]!;
}

/**
 * The trust anchor and trust list: the files given, checked against --root or this installation's root;
 * without --trust-list, this installation's own certificates (read from its database, no network).
 */
async function trust(ctx: CommandContext): Promise<TrustList> {
  const listFile = ctx.values['trust-list'];
  const rootFile = ctx.values.root;
  if (typeof rootFile === 'string' && typeof listFile === 'string') return readTrustList(readFileSync(listFile, 'utf8'), pemToDer(readFileSync(rootFile)));
  const config = loadConfig(ctx.io.env);
  const store = await openStore(config);
  try {
    const root = typeof rootFile === 'string' ? pemToDer(readFileSync(rootFile)) : (await getPkiKey(store.db, 'root'))?.certificate;
    if (!root) throw new UsageError('no trust anchor: pass --root with the issuer\'s root certificate, or run this where OneSeal is initialised');
    if (typeof listFile === 'string') return readTrustList(readFileSync(listFile, 'utf8'), root);
    const now = new Date();
    const content = await trustListContent(store.db, root, { name: '', creditCode: '', publicUrl: config.publicUrl });
    return { ...content, issuedAt: now.toISOString(), nextUpdate: new Date(now.getTime() + VALIDITY_MS).toISOString() };
  } finally {
    await store.close();
  }
}

function report(check: QrCheck): string {
  const p = check.payload;
  const lines = [`${check.verdict.toUpperCase()}: ${check.reason}`];
  if (p) {
    lines.push(`  licence   ${p.id} (version ${p.version})`, `  holder    ${p.holder} ${p.holderId}`, `  issuer    ${p.issuer}`,
      `  valid     ${p.validFrom} – ${p.validTo}`, `  issued    ${new Date(p.issuedAt * 1000).toISOString()}`, `  key       ${check.kid}`);
  }
  if (check.pdfMatches !== undefined) lines.push(`  pdf       ${check.pdfMatches ? 'matches the signed hash' : 'does NOT match the signed hash'}`);
  return lines.join('\n');
}

export const verifyQrCommand: CommandRunner = {
  async run(ctx) {
    const arg = ctx.positionals[0];
    if (!arg) throw new UsageError('give the QR code\'s text or an image of it');
    const text = qrTextOf(arg);
    const trustList = await trust(ctx);
    const statusFile = ctx.values['status-list'];
    const root = Buffer.from(trustList.root.x5c[0]!, 'base64');
    const statusList = typeof statusFile === 'string' ? readStatusList(readFileSync(statusFile, 'utf8'), root) : undefined;
    const pdfFile = ctx.values.pdf;
    const pdf = typeof pdfFile === 'string' ? readFileSync(pdfFile) : undefined;
    const check = verifyQr({ text, trustList, ...(statusList ? { statusList } : {}), ...(pdf ? { pdf } : {}) });
    const { payload, ...rest } = check;
    const json = payload ? { ...rest, payload: { ...payload, pdf: Buffer.from(payload.pdf).toString('hex') } } : rest;
    printResult(ctx, json, report(check));
    return QR_EXIT[check.verdict];
  },
};
