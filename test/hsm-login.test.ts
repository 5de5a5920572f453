import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Hsm } from '../src/hsm/hsm.js';
import { SOFTHSM_MODULE } from '../src/hsm/softhsm.js';
import { createTestToken, TEST_PIN, TEST_TOKEN_LABEL } from './support/token.js';

// PKCS#11 login state belongs to the whole process, so a wrong PIN is only rejected before any
// correct login: this file has a process, and a token, of its own.
const { dir } = createTestToken();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('logging in to the token', () => {
  it('a wrong PIN is hsm-pin-incorrect, says which setting to fix, and does not echo the PIN', async () => {
    const err = await Hsm.open({ modulePath: SOFTHSM_MODULE, tokenLabel: TEST_TOKEN_LABEL, pin: 'wrong-pin' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'hsm-pin-incorrect', kind: 'unavailable' });
    expect(err.message).toContain('ONESEAL_PIN');
    expect(err.message).not.toContain('wrong-pin');
  });

  it('the right PIN then opens it', async () => {
    const hsm = await Hsm.open({ modulePath: SOFTHSM_MODULE, tokenLabel: TEST_TOKEN_LABEL, pin: TEST_PIN });
    expect((await hsm.health()).ok).toBe(true);
    await hsm.close();
  });
});
