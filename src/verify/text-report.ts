/**
 * The report as people read it: the verdict first, then each signature with its reasons,
 * in Chinese and English (the CLI prints it; the HTML page uses the same wording).
 */
import type { Report, SignatureReport, Verdict } from './report.js';

export const VERDICT_WORDS: Record<Verdict, { zh: string; en: string }> = {
  valid: { zh: '有效', en: 'valid' },
  invalid: { zh: '无效', en: 'invalid' },
  indeterminate: { zh: '无法确定', en: 'indeterminate' },
};

export function signatureLines(s: SignatureReport, index: number): string[] {
  const who = s.signer ? s.signer.commonName ?? s.signer.subject : 'unknown signer / 签名人未知';
  const lines = [
    `${index + 1}. ${s.kind === 'doc-timestamp' ? 'document time-stamp 文档时间戳' : 'signature 签名'} "${s.fieldName}": ${VERDICT_WORDS[s.verdict].zh} ${VERDICT_WORDS[s.verdict].en}`,
    `   signer 签名人: ${who}${s.signer?.creditCode ? ` (${s.signer.creditCode})` : ''}`,
  ];
  if (s.signingTime) lines.push(`   claimed time 声明时间: ${s.signingTime}`);
  if (s.provenTime) lines.push(`   proven time 时间戳证明: ${s.provenTime}${s.timestamp?.tsa ? ` (${s.timestamp.tsa})` : ''}`);
  lines.push(`   level 级别: ${s.level ?? '—'}; covers whole document 覆盖全文: ${s.coversWholeDocument ? 'yes 是' : 'no 否'}`);
  for (const m of s.modifications) lines.push(`   later change 后续修改 (revision ${m.revision}, ${m.kind}): ${m.details}`);
  for (const r of s.reasons) lines.push(`   ${r.code}: ${r.message.zh} ${r.message.en}`);
  return lines;
}

export function textReport(file: string, report: Report): string {
  const v = VERDICT_WORDS[report.verdict];
  return [
    `${file}: ${v.zh} ${v.en.toUpperCase()} (${report.signatures.length} signature(s), ${report.revisions} revision(s))`,
    ...report.signatures.flatMap(signatureLines),
    ...report.findings.map((f) => `! ${f.code}: ${f.message.zh} ${f.message.en}`),
  ].join('\n');
}
