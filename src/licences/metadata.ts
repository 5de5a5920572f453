/**
 * GB/T 36903 electronic licence metadata, under the element names deployed licence systems exchange
 * (GB/T 36906 sharing interfaces): what a catalogue or a verification page shows about a licence.
 */
import type { LicenceType } from './types.js';
import type { LicenceData } from './validate.js';

export interface LicenceMetadata {
  certificateIdentifier: string;
  certificateName: string;
  certificateTypeName: string;
  certificateTypeCode: string;
  certificateIssuingAuthorityName: string;
  certificateIssuingAuthorityCode: string;
  /** YYYY-MM-DD */
  certificateIssuedDate: string;
  certificateHolderName: string;
  certificateHolderCode: string;
  /** The kind of number in certificateHolderCode, e.g. 统一社会信用代码 or 公民身份号码. */
  certificateHolderTypeName: string;
  certificateEffectiveDate: string;
  /** YYYY-MM-DD, or 长期 for an open-ended term. */
  certificateExpiringDate: string;
  /** GB/T 2260 division of the issuing authority: characters 3–8 of its credit code. */
  certificateAreaCode: string;
}

const HOLDER_CODE_NAMES: Partial<Record<string, string>> = { 'credit-code': '统一社会信用代码', 'id-number': '公民身份号码' };

/** The metadata record of a licence whose data has been validated against `type`. */
export function licenceMetadata(
  type: LicenceType,
  data: LicenceData,
  licence: { licenceId: string; issuer: { name: string; creditCode: string }; issuedOn: string },
): LicenceMetadata {
  const holderId = type.fields.find((f) => f.name === type.holder.id)!;
  return {
    certificateIdentifier: licence.licenceId,
    certificateName: type.title.zh,
    certificateTypeName: type.title.zh,
    certificateTypeCode: type.typeCode,
    certificateIssuingAuthorityName: licence.issuer.name,
    certificateIssuingAuthorityCode: licence.issuer.creditCode,
    certificateIssuedDate: licence.issuedOn,
    certificateHolderName: data[type.holder.name]!,
    certificateHolderCode: data[type.holder.id]!,
    certificateHolderTypeName: HOLDER_CODE_NAMES[holderId.kind] ?? holderId.label.zh,
    certificateEffectiveDate: data[type.validity.from]!,
    certificateExpiringDate: data[type.validity.to]!,
    certificateAreaCode: licence.issuer.creditCode.slice(2, 8),
  };
}
