/**
 * Who handles a request for an item, and whether they may: a centre's client or officer only for the
 * items delegated to that centre (read from the database on every request, so a revocation counts at
 * once), and always naming the item — otherwise the stamp could not say who handled what. The district
 * hall's own clients may name an item or not, and stay limited by their grants.
 *
 * For a stamp, the item's profile fills the options the request leaves out; a request may set an
 * option over the profile only where the profile allows it, never the seal, reason or location:
 * those say whose seal it is and who handled the item.
 */
import type { Actor } from '../access/actors.js';
import { OneSealError, type FieldError } from '../errors.js';
import type { Db } from '../store/db.js';
import { getCentre, getItem, isDelegated, type CentreRecord, type ItemRecord } from '../store/items.js';
import { getSeal } from '../store/seals.js';
import { requireItem } from './centres.js';
import { handlingText, parsePlacement, renderReason, type Overridable } from './profile.js';

export interface Handling {
  item: ItemRecord;
  /** The handling centre; null: the district hall. */
  centre: CentreRecord | null;
  /** The bureau whose seal it is (the delegating body). */
  organisation: string;
  reason: string;
  location: string;
}

/** The centre an actor belongs to (people and system clients; null for the district hall and break-glass). */
export function actorCentre(actor: Actor): string | null {
  return actor.kind === 'person' || actor.kind === 'client' ? (actor.centre ?? null) : null;
}

/**
 * The handling of a request for `itemCode` by `actor`, or null when a district-hall actor names no item
 * (or, stamping, an item code the catalogue does not hold: approval systems sent their own codes before
 * the catalogue existed, and they are recorded as given). 403 when a centre's actor names no item or
 * one not delegated to its centre.
 */
export async function resolveHandling(db: Db, actor: Actor, itemCode: string | null, what: 'stamp' | 'issue licences'): Promise<Handling | null> {
  const centreCode = actorCentre(actor);
  if (itemCode === null) {
    if (centreCode === null) return null;
    throw new OneSealError('item-required', 'forbidden',
      `Centre "${centreCode}" may ${what} only for the items delegated to it: name the item (itemCode).`,
      { extra: { centre: centreCode }, fields: [{ field: 'itemCode', message: 'required for a service centre' }] });
  }
  if (centreCode === null && what === 'stamp' && !(await getItem(db, itemCode))) return null;
  const item = await requireItem(db, itemCode);
  const centre = centreCode === null ? null : await getCentre(db, centreCode);
  if (centreCode !== null && (!centre || !(await isDelegated(db, item.code, centreCode)))) {
    throw new OneSealError('item-not-delegated', 'forbidden',
      `Item ${item.code} (${item.name}) is not delegated to centre "${centreCode}"${centre ? ` (${centre.name})` : ''}: it may ${what} only for the items delegated to it.`,
      { extra: { item: item.code, centre: centreCode } });
  }
  const seal = await getSeal(db, item.sealId);
  const organisation = seal?.organisation ?? item.department;
  const handling = handlingText({ centreName: centre?.name ?? null, organisation });
  return {
    item,
    centre: centre ?? null,
    organisation,
    reason: renderReason(item.reasonTemplate, { handling, item: item.name, department: item.department }),
    location: centre?.name ?? organisation,
  };
}

const PLACEMENT_OPTIONS = ['page', 'x', 'y', 'unit', 'anchor', 'field', 'invisible'];
/** Options that are the item's alone. */
const FIXED = ['seal', 'reason', 'location'];
const OPTION_OF: Record<string, Overridable> = { level: 'level', certify: 'certify', straddle: 'straddle', contactInfo: 'contactInfo' };

function placementFields(spec: string): Record<string, string> {
  const p = parsePlacement(spec);
  if (typeof p === 'string') throw new OneSealError('item-profile-invalid', 'internal', `The stored placement of an item is invalid: ${p}`);
  switch (p.kind) {
    case 'anchor': return { anchor: p.text };
    case 'field': return { field: p.name };
    case 'position': return { page: String(p.page), x: String(p.x), y: String(p.y), unit: 'mm' };
    case 'invisible': return { invisible: 'true' };
    case 'box': throw new OneSealError('item-profile-invalid', 'internal', 'An item placement is never a box.');
  }
}

/**
 * The request's option fields with the item's profile applied: profile values where the request gives
 * none, the request's where the profile allows, 403 naming every option it may not set.
 */
export function withProfile(raw: Record<string, string>, handling: Handling): Record<string, string> {
  const { item } = handling;
  const refused: FieldError[] = [];
  const refuse = (field: string) => refused.push({ field, message: `is set by item ${item.code} and may not be given` });
  for (const f of FIXED) if (raw[f] !== undefined && !(f === 'seal' && raw[f]!.trim() === item.sealId)) refuse(f);
  const placementGiven = PLACEMENT_OPTIONS.filter((f) => raw[f] !== undefined);
  if (placementGiven.length && !item.overridable.includes('placement')) placementGiven.forEach(refuse);
  for (const [f, o] of Object.entries(OPTION_OF)) if (raw[f] !== undefined && !item.overridable.includes(o)) refuse(f);
  if (refused.length) {
    throw new OneSealError('option-fixed-by-item', 'forbidden',
      `Item ${item.code} (${item.name}) fixes ${refused.map((r) => r.field).join(', ')}: leave ${refused.length === 1 ? 'it' : 'them'} out (the item's profile applies).`,
      { fields: refused, extra: { item: item.code } });
  }
  const profile: Record<string, string> = {
    seal: item.sealId,
    ...(placementGiven.length ? {} : placementFields(item.placement)),
    ...(item.level ? { level: item.level } : {}),
    ...(item.certify ? { certify: String(item.certify) } : {}),
  };
  return { ...profile, ...raw, seal: item.sealId, reason: handling.reason, location: handling.location };
}
