/**
 * The licence types OneSeal knows: the built-in definitions in ./types plus any *.json definitions in a
 * deployment's own directory, so a new type needs a JSON file and no code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OneSealError } from '../errors.js';
import { parseLicenceType, type LicenceType } from './types.js';
// Imported (not read from disk) so that the TypeScript build copies them into dist.
import businessLicence from './types/business-licence.json' with { type: 'json' };
import foodBusinessLicence from './types/food-business-licence.json' with { type: 'json' };
import residencePermit from './types/residence-permit.json' with { type: 'json' };

const BUILT_IN: ReadonlyArray<[string, unknown]> = [
  ['business-licence.json', businessLicence],
  ['food-business-licence.json', foodBusinessLicence],
  ['residence-permit.json', residencePermit],
];

export class LicenceTypeRegistry {
  private readonly byId = new Map<string, LicenceType>();
  private readonly byCode = new Map<string, LicenceType>();

  constructor(types: Iterable<LicenceType>) {
    for (const t of types) {
      const clash = this.byId.get(t.id) ?? this.byCode.get(t.typeCode);
      if (clash) {
        throw new OneSealError('licence-type-invalid', 'internal', `licence types "${clash.id}" and "${t.id}" share an id or type code (${t.typeCode})`);
      }
      this.byId.set(t.id, t);
      this.byCode.set(t.typeCode, t);
    }
  }

  /** The built-in types, plus every *.json in `dir` when given (e.g. from configuration). */
  static load(dir?: string): LicenceTypeRegistry {
    const types = BUILT_IN.map(([file, raw]) => parseLicenceType(raw, `built-in ${file}`));
    if (dir !== undefined) {
      let files: string[];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
      } catch (e) {
        throw new OneSealError('licence-type-invalid', 'internal', `cannot read the licence type directory ${dir}: ${(e as Error).message}`, { cause: e });
      }
      for (const f of files) {
        const file = path.join(dir, f);
        let raw: unknown;
        try {
          raw = JSON.parse(readFileSync(file, 'utf8'));
        } catch (e) {
          throw new OneSealError('licence-type-invalid', 'internal', `licence type ${file} is not readable JSON: ${(e as Error).message}`, { cause: e });
        }
        types.push(parseLicenceType(raw, file));
      }
    }
    return new LicenceTypeRegistry(types);
  }

  list(): LicenceType[] {
    return [...this.byId.values()];
  }

  /** The type with this id; throws OneSealError('unknown-licence-type', 'not-found') naming the known ones. */
  get(id: string): LicenceType {
    const t = this.byId.get(id);
    if (!t) {
      throw new OneSealError('unknown-licence-type', 'not-found', `there is no licence type "${id}"; known types: ${[...this.byId.keys()].join(', ')}`);
    }
    return t;
  }

  /** The type a GB/T 36904 type code (as inside a licence identifier) denotes, if any. */
  byTypeCode(typeCode: string): LicenceType | undefined {
    return this.byCode.get(typeCode);
  }
}
