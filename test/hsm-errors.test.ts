import { describe, expect, it } from 'vitest';
import { CKR, mapHsmError, recoveryFor } from '../src/hsm/errors.js';

// The one place a fake stands in for the HSM: mapping CKR_* codes cannot be provoked on SoftHSM at will.
const ckr = (code: number, method = 'C_Sign') => Object.assign(new Error(`CKR ${code}`), { code, method });

describe('CKR_* error mapping', () => {
  it.each([
    [CKR.PIN_INCORRECT, 'hsm-pin-incorrect', 'ONESEAL_PIN'],
    [CKR.PIN_LOCKED, 'hsm-pin-locked', 'security officer'],
    [CKR.KEY_HANDLE_INVALID, 'hsm-key-not-found', 'no longer on the HSM'],
    [CKR.SESSION_COUNT, 'hsm-busy', 'retry'],
    [CKR.DEVICE_REMOVED, 'hsm-unavailable', 'connected'],
    [0x0badcafe, 'hsm-error', '0x0BADCAFE'],
  ])('CKR 0x%s → %s', (code, expected, hint) => {
    const e = mapHsmError(ckr(code), 'signing with key 01');
    expect(e.code).toBe(expected);
    expect(e.kind).toBe('unavailable');
    expect(e.message).toContain(hint);
    expect(e.message).toContain('signing with key 01');
  });

  it('busy errors tell the client when to retry', () => {
    expect(mapHsmError(ckr(CKR.SESSION_COUNT), 'x').retryAfter).toBe(1);
  });

  it('chooses the recovery the pool performs', () => {
    expect(recoveryFor(ckr(CKR.SESSION_HANDLE_INVALID))).toBe('session');
    expect(recoveryFor(ckr(CKR.USER_NOT_LOGGED_IN))).toBe('session');
    expect(recoveryFor(ckr(CKR.DEVICE_REMOVED))).toBe('token');
    expect(recoveryFor(ckr(CKR.OBJECT_HANDLE_INVALID))).toBe('key');
    expect(recoveryFor(ckr(CKR.PIN_INCORRECT))).toBe('none');
    expect(recoveryFor(new Error('plain'))).toBe('none');
  });
});
