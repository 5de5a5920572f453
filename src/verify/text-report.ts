/**
 * The report as people read it: the verdict first, then each seal signature and document
 * time-stamp with its coverage, later changes and reasons, in Chinese and English (the CLI prints
 * it; the HTML page uses the same wording). Names and messages taken from certificates and PDFs go
 * through `printable`: an escape sequence in a certificate's name never reaches a terminal.
 */
import { printable } from '../printable.js';
import type { Report, SignatureReport, Verdict } from './report.js';

export const VERDICT_WORDS: Record<Verdict, { zh: string; en: string }> = {
  valid: { zh: '有效', en: 'valid' },
  invalid: { zh: '无效', en: 'invalid' },
  indeterminate: { zh: '无法确定', en: 'indeterminate' },
  'not-sealed': { zh: '未签章', en: 'not sealed' },
};

const both = (m: { zh: string; en: string }): string => `${printable(m.zh)} / ${printable(m.en)}`;

export function signatureLines(s: SignatureReport, index: number): string[] {
  const verdict = `${VERDICT_WORDS[s.verdict].zh} ${VERDICT_WORDS[s.verdict].en}`;
  const lines: string[] = [];
  if (s.kind === 'doc-timestamp') {
    lines.push(`${index + 1}. document time-stamp 文档时间戳 "${printable(s.fieldName)}": ${verdict} — evidence of time only, not a seal 仅证明时间，不是签章`);
    if (s.timestamp) lines.push(`   time 时间: ${s.timestamp.genTime}${s.timestamp.tsa ? `; time-stamping authority 时间戳机构: ${printable(s.timestamp.tsa)}` : ''}`);
  } else {
    const who = s.signer ? printable(s.signer.commonName ?? s.signer.subject) : 'unknown 未知';
    const what = s.reasons.some((r) => r.code === 'SIGNER_NOT_SEAL') ? 'signature, not a seal 签名，不是签章' : 'seal signature 签章';
    lines.push(`${index + 1}. ${what} "${printable(s.fieldName)}": ${verdict}`);
    lines.push(`   signer 签章人: ${who}${s.signer?.creditCode ? ` (${s.signer.creditCode})` : ''}`);
    if (s.signer?.organisation) lines.push(`   organisation 机关: ${printable(s.signer.organisation)}`);
    if (s.reason) lines.push(`   reason 事由: ${printable(s.reason)}`);
    if (s.location) lines.push(`   handled at 办理地点: ${printable(s.location)}`);
    if (s.signingTime) lines.push(`   claimed time 声明时间: ${s.signingTime}`);
    if (s.provenTime) lines.push(`   proven time 时间戳证明: ${s.provenTime}${s.timestamp?.tsa ? ` (${printable(s.timestamp.tsa)})` : ''}`);
    lines.push(`   level 级别: ${s.level ?? '—'}`);
  }
  lines.push(`   coverage 覆盖范围: ${s.coverage ? both(s.coverage.message) : 'unknown 未知'}`);
  for (const m of s.modifications) {
    lines.push(`   ${m.permitted ? 'later change 后续修改' : 'NOT PERMITTED 不允许'}: ${both(m.message)}${m.refusal ? ` — ${both(m.refusal)}` : ''}`);
  }
  for (const r of s.reasons) lines.push(`   ${r.code}: ${printable(r.message.zh)} ${printable(r.message.en)}`);
  return lines;
}

export function textReport(file: string, report: Report): string {
  const v = VERDICT_WORDS[report.verdict];
  const stamps = report.signatures.filter((s) => s.kind === 'doc-timestamp').length;
  return [
    `${printable(file)}: ${v.zh} ${v.en.toUpperCase()} (${report.seals} seal signature(s) 签章, ${stamps} document time-stamp(s) 文档时间戳, ${report.revisions} revision(s) 修订版本)`,
    ...report.signatures.flatMap(signatureLines),
    ...report.findings.map((f) => `! ${f.code}: ${printable(f.message.zh)} ${printable(f.message.en)}`),
  ].join('\n');
}
