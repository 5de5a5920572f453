/**
 * What the public licence page and status endpoint may show about a holder. A natural person's name and
 * ID number are personal information, so they are masked; an organisation's name and unified social credit
 * code are public registration data (国家企业信用信息公示), so they are shown as issued.
 */
import type { LicenceType } from './types.js';

/** 张*三: first and last character kept; two-character names keep the first (张*). */
export function maskPersonName(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return name;
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars.at(-1)}`;
}

/** 110105********002X: the first 6 (address code) and last 4 characters kept. */
export function maskIdNumber(id: string): string {
  const chars = [...id];
  if (chars.length <= 10) return '*'.repeat(chars.length);
  return `${chars.slice(0, 6).join('')}${'*'.repeat(chars.length - 10)}${chars.slice(-4).join('')}`;
}

export interface PublicHolder {
  name: string;
  id: string;
  /** The label of the identifying number, e.g. 统一社会信用代码 (Unified social credit code). */
  idLabel: { zh: string; en: string };
  masked: boolean;
}

/** Whether the type's holder is an organisation (identified by a unified social credit code): its name and code are public. */
export function holderIsOrganisation(type: LicenceType): boolean {
  return type.fields.find((f) => f.name === type.holder.id)!.kind === 'credit-code';
}

/** The holder as the public may see it: organisations in full, everyone else masked. */
export function publicHolder(type: LicenceType, holder: { name: string; id: string }): PublicHolder {
  const idField = type.fields.find((f) => f.name === type.holder.id)!;
  const organisation = holderIsOrganisation(type);
  return {
    name: organisation ? holder.name : maskPersonName(holder.name),
    id: organisation ? holder.id : maskIdNumber(holder.id),
    idLabel: idField.label,
    masked: !organisation,
  };
}
