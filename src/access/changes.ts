/**
 * Every change under two-person control and the module that carries it out: the seal changes, the
 * system-client changes, the people changes, delegations and the licence-QR key. Typed against the policy table, so an action marked
 * twoPerson there without a handler here does not compile.
 */
import { DELEGATION_CHANGES } from '../items/centres.js';
import { LICENCE_QR_CHANGES } from '../pki/licence-qr-changes.js';
import { SEAL_CHANGES } from '../seals/changes.js';
import { CLIENT_CHANGES } from './clients.js';
import { PERSON_CHANGES } from './people.js';
import type { ChangeAction, ChangeHandler } from './two-person.js';

export const CHANGE_HANDLERS: Record<ChangeAction, ChangeHandler> = { ...SEAL_CHANGES, ...CLIENT_CHANGES, ...PERSON_CHANGES, ...DELEGATION_CHANGES, ...LICENCE_QR_CHANGES };
