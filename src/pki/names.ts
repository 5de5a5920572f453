import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OneSealError } from '../errors.js';
import { creditCodeError } from '../standards/credit-code.js';

/** The X.500 attributes OneSeal puts in names. Values are kept as given (Chinese text intact). */
export interface NameFields {
  country?: string;
  province?: string;
  locality?: string;
  organization?: string;
  organizationalUnit?: string;
  commonName?: string;
  /** ETSI EN 319 412-1 organizationIdentifier (2.5.4.97), e.g. "NTRCN-91110000802100433B". */
  organizationIdentifier?: string;
  /** X.520 serialNumber (2.5.4.5): printable characters only. */
  serialNumber?: string;
}

type Encoding = 'printable' | 'utf8';

/** Order is the conventional big-to-small RDN order, so names read the same in every tool. */
const ATTRIBUTES: ReadonlyArray<{ field: keyof NameFields; oid: string; short: string; encoding: Encoding }> = [
  { field: 'country', oid: '2.5.4.6', short: 'C', encoding: 'printable' },
  { field: 'province', oid: '2.5.4.8', short: 'ST', encoding: 'utf8' },
  { field: 'locality', oid: '2.5.4.7', short: 'L', encoding: 'utf8' },
  { field: 'organization', oid: '2.5.4.10', short: 'O', encoding: 'utf8' },
  { field: 'organizationalUnit', oid: '2.5.4.11', short: 'OU', encoding: 'utf8' },
  { field: 'organizationIdentifier', oid: '2.5.4.97', short: 'organizationIdentifier', encoding: 'utf8' },
  { field: 'serialNumber', oid: '2.5.4.5', short: 'serialNumber', encoding: 'printable' },
  { field: 'commonName', oid: '2.5.4.3', short: 'CN', encoding: 'utf8' },
];

/** X.680 PrintableString repertoire. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * ETSI EN 319 412-1 5.1.4 semantics identifier for a national trade register number:
 * "NTR" + ISO 3166 country + "-" + the register's identifier, here the unified social credit code.
 */
export function organizationIdentifierForCreditCode(creditCode: string): string {
  const problem = creditCodeError(creditCode);
  if (problem) {
    throw new OneSealError('invalid-credit-code', 'unprocessable', `The unified social credit code "${creditCode}" ${problem}.`);
  }
  return `NTRCN-${creditCode}`;
}

export function buildName(fields: NameFields): pkijs.RelativeDistinguishedNames {
  const typesAndValues: pkijs.AttributeTypeAndValue[] = [];
  for (const { field, oid, short, encoding } of ATTRIBUTES) {
    const value = fields[field];
    if (value === undefined || value === '') continue;
    if (value.length > 64 && field !== 'organizationIdentifier') {
      // X.520 upper bounds (ub-common-name etc.) are 64 characters; longer names break strict validators.
      throw new OneSealError('name-too-long', 'unprocessable', `${short} must be at most 64 characters (got ${value.length}).`);
    }
    if (encoding === 'printable' && !PRINTABLE.test(value)) {
      throw new OneSealError('invalid-name', 'unprocessable', `${short} may only contain letters, digits, spaces and ' ( ) + , - . / : = ?.`);
    }
    if (field === 'country' && !/^[A-Z]{2}$/.test(value)) {
      throw new OneSealError('invalid-name', 'unprocessable', `C must be a two-letter ISO 3166 code such as "CN" (got "${value}").`);
    }
    typesAndValues.push(
      new pkijs.AttributeTypeAndValue({
        type: oid,
        value: encoding === 'printable' ? new asn1js.PrintableString({ value }) : new asn1js.Utf8String({ value }),
      }),
    );
  }
  if (typesAndValues.length === 0) {
    throw new OneSealError('invalid-name', 'unprocessable', 'A certificate name needs at least one attribute (usually CN).');
  }
  // One attribute per RDN: pkijs would put them all in one multi-valued RDN ("C=CN + O=… + CN=…"), which
  // validators display and match differently. Parsing our own DER keeps that encoding as the object's value.
  const der = new asn1js.Sequence({ value: typesAndValues.map((tv) => new asn1js.Set({ value: [tv.toSchema()] })) }).toBER();
  return pkijs.RelativeDistinguishedNames.fromBER(der);
}

function attributeText(value: unknown): string {
  const block = (value as { valueBlock?: { value?: unknown } }).valueBlock;
  return typeof block?.value === 'string' ? block.value : '';
}

/** Reads the known attributes back; unknown attribute types are ignored. */
export function parseName(name: pkijs.RelativeDistinguishedNames): NameFields {
  const fields: NameFields = {};
  for (const tv of name.typesAndValues) {
    const known = ATTRIBUTES.find((a) => a.oid === tv.type);
    if (known && fields[known.field] === undefined) fields[known.field] = attributeText(tv.value);
  }
  return fields;
}

/** One-line display form, most specific first like RFC 4514 (e.g. "CN=行政审批专用章, O=…, C=CN"). */
export function formatName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${ATTRIBUTES.find((a) => a.oid === tv.type)?.short ?? tv.type}=${attributeText(tv.value)}`)
    .reverse()
    .join(', ');
}

