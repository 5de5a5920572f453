import { OneSealError } from '../errors.js';

/** CKR_* values we treat specially (PKCS#11 v2.40 §3.6). */
export const CKR = {
  GENERAL_ERROR: 0x05,
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  FUNCTION_CANCELED: 0x50,
  KEY_HANDLE_INVALID: 0x60,
  OBJECT_HANDLE_INVALID: 0x82,
  OPERATION_ACTIVE: 0x90,
  PIN_INCORRECT: 0xa0,
  PIN_INVALID: 0xa1,
  PIN_LEN_RANGE: 0xa2,
  PIN_EXPIRED: 0xa3,
  PIN_LOCKED: 0xa4,
  SESSION_CLOSED: 0xb0,
  SESSION_COUNT: 0xb1,
  SESSION_HANDLE_INVALID: 0xb3,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_NOT_RECOGNIZED: 0xe1,
  USER_ALREADY_LOGGED_IN: 0x100,
  USER_NOT_LOGGED_IN: 0x101,
  CRYPTOKI_NOT_INITIALIZED: 0x190,
} as const;

/** Errors after which the session is gone and a fresh one (maybe a fresh login) fixes things. */
const SESSION_LOST = new Set<number>([
  CKR.SESSION_CLOSED,
  CKR.SESSION_HANDLE_INVALID,
  CKR.USER_NOT_LOGGED_IN,
  CKR.OPERATION_ACTIVE,
]);
/**
 * Errors after which the token itself must be found again (removed, re-inserted, library reset).
 * SoftHSM answers CKR_GENERAL_ERROR once its token store went away, until the module is re-initialised.
 */
const TOKEN_LOST = new Set<number>([
  CKR.GENERAL_ERROR,
  CKR.DEVICE_REMOVED,
  CKR.DEVICE_ERROR,
  CKR.TOKEN_NOT_PRESENT,
  CKR.TOKEN_NOT_RECOGNIZED,
  CKR.CRYPTOKI_NOT_INITIALIZED,
]);
const KEY_LOST = new Set<number>([CKR.KEY_HANDLE_INVALID, CKR.OBJECT_HANDLE_INVALID]);

export function ckrOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export type Recovery = 'session' | 'token' | 'key' | 'none';

/** What the pool should do before retrying an operation that failed with this error. */
export function recoveryFor(e: unknown): Recovery {
  const code = ckrOf(e);
  if (code === undefined) return 'none';
  if (SESSION_LOST.has(code)) return 'session';
  if (TOKEN_LOST.has(code)) return 'token';
  if (KEY_LOST.has(code)) return 'key';
  return 'none';
}

export class HsmError extends OneSealError {
  constructor(code: string, message: string, options: { cause?: unknown; retryAfter?: number } = {}) {
    super(code, 'unavailable', message, { ...options, extra: { component: 'hsm' } });
    this.name = 'HsmError';
  }
}

function hex(code: number): string {
  return '0x' + code.toString(16).toUpperCase().padStart(8, '0');
}

/**
 * Turns whatever pkcs11js threw into an HsmError that tells an operator what to do.
 * `context` says what we were doing ("signing with key 0a1b…", "logging in to token oneseal-dev").
 */
export function mapHsmError(e: unknown, context: string): HsmError {
  if (e instanceof HsmError) return e;
  const code = ckrOf(e);
  const method = (e as { method?: string } | null)?.method;
  const where = method ? ` (${method})` : '';
  switch (code) {
    case CKR.PIN_INCORRECT:
    case CKR.PIN_INVALID:
    case CKR.PIN_LEN_RANGE:
      return new HsmError('hsm-pin-incorrect', `The HSM rejected the PIN while ${context}: check ONESEAL_PIN or ONESEAL_PIN_FILE.`, { cause: e });
    case CKR.PIN_LOCKED:
    case CKR.PIN_EXPIRED:
      return new HsmError('hsm-pin-locked', `The HSM user PIN is locked or expired while ${context}: the security officer must reset it.`, { cause: e });
    case CKR.KEY_HANDLE_INVALID:
    case CKR.OBJECT_HANDLE_INVALID:
      return new HsmError('hsm-key-not-found', `The key is no longer on the HSM while ${context}: it may have been destroyed or the token replaced.`, { cause: e });
    case CKR.SESSION_COUNT:
    case CKR.DEVICE_MEMORY:
      return new HsmError('hsm-busy', `The HSM is busy (no free session or memory) while ${context}: retry shortly or lower ONESEAL_HSM_POOL_SIZE.`, { cause: e, retryAfter: 1 });
    case CKR.GENERAL_ERROR:
    case CKR.DEVICE_REMOVED:
    case CKR.TOKEN_NOT_PRESENT:
    case CKR.TOKEN_NOT_RECOGNIZED:
    case CKR.DEVICE_ERROR:
      return new HsmError('hsm-unavailable', `The HSM token is not available while ${context}: check that it is connected and configured.`, { cause: e, retryAfter: 5 });
    case undefined:
      return new HsmError('hsm-error', `The HSM failed while ${context}${where}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    default:
      return new HsmError('hsm-error', `The HSM returned ${hex(code)}${where} while ${context}.`, { cause: e });
  }
}

/** The HSM kept a call past the time-out (the call itself cannot be cut off; its session stays taken until it ends). */
export const hsmTimeout = (timeoutMs: number, context: string): HsmError => new HsmError('hsm-timeout',
  `The HSM did not answer within ${timeoutMs / 1000} s while ${context}: it is slow or hanging. Retry shortly; if it persists, check the HSM (ONESEAL_HSM_TIMEOUT_SECONDS sets the limit).`,
  { retryAfter: 5 });
