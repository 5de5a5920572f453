/**
 * A document that gains incremental updates one after another (signature, DSS, document time-stamp)
 * in a single allocation: the input is copied once, and each later revision is read through a view
 * of the same memory instead of a fresh concatenation of a possibly 50 MB file.
 */
export class GrowingPdf {
  private buf: Buffer;
  private used: number;

  /** `headroom`: expected size of all the tails still to come; a wrong guess only costs a copy. */
  constructor(input: Uint8Array, headroom: number) {
    this.buf = Buffer.alloc(input.length + headroom);
    this.buf.set(input, 0);
    this.used = input.length;
  }

  get length(): number {
    return this.used;
  }

  append(tail: Uint8Array): void {
    if (this.used + tail.length > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(this.used + tail.length, this.buf.length * 1.25) | 0);
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.buf.set(tail, this.used);
    this.used += tail.length;
  }

  /** The document so far: a view, not a copy. */
  view(): Buffer {
    return this.buf.subarray(0, this.used);
  }
}
