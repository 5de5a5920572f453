/**
 * What the public page derives from a licence record (its handling names, its rendered HTML), kept with
 * the record object itself. LicenceRecordCache hands out the same object until the licence changes or
 * its second is up, then a freshly read one: whatever is kept here goes with it, so a rendered page can
 * never show a licence as it was before a revocation the record cache already knows of.
 */
export class RecordMemo {
  private readonly byRecord = new WeakMap<object, Map<string, unknown>>();

  /** The value `make` gave for `record` and `key`, made now if there is none; a rejected promise is not kept. */
  get<T>(record: object, key: string, make: () => T): T {
    let values = this.byRecord.get(record);
    if (!values) this.byRecord.set(record, (values = new Map()));
    if (values.has(key)) return values.get(key) as T;
    const value = make();
    values.set(key, value);
    if (value instanceof Promise) value.catch(() => values.delete(key));
    return value;
  }
}
