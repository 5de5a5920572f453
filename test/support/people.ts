/** People in a test stack: added by the PIN holder (break-glass), logged in over HTTP or with the CLI. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { totpCode, totpStep } from '../../src/access/totp.js';
import { call } from './api-client.js';
import type { Stack } from './stamp-stack.js';

export interface TestPerson {
  id: string;
  name: string;
  roles: string[];
  password: string;
  totpSecret: string;
}

/** `oneseal user add --break-glass --json`: the credentials exactly as printed once. */
export async function addPerson(stack: Stack, name: string, roles: string[]): Promise<TestPerson> {
  const r = await stack.cli(['user', 'add', '--name', name, '--roles', roles.join(','), '--break-glass', '--json']);
  if (r.code !== 0) throw new Error(`user add failed: ${r.err}`);
  return JSON.parse(r.out) as TestPerson;
}

/** The code an authenticator app shows now (or `offset` steps away). */
export function otpNow(person: Pick<TestPerson, 'totpSecret'>, offset = 0): string {
  return totpCode(person.totpSecret, totpStep(new Date()) + offset);
}

/** POST /v1/sessions; the token of the new session. */
export async function loginToken(stack: Stack, person: Pick<TestPerson, 'name' | 'password'>, otp?: string): Promise<string> {
  const r = await call(`${stack.server.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: person.name, password: person.password, ...(otp ? { otp } : {}) }),
  });
  if (r.status !== 201) throw new Error(`login of ${person.name} answered ${r.status}: ${r.bytes.toString()}`);
  return r.json<{ token: string }>().token;
}

/** A person with these roles, logged in over HTTP: `key` is their session token (a bearer like an API key). */
export async function personWithSession(stack: Stack, name: string, roles: string[]): Promise<TestPerson & { key: string }> {
  const person = await addPerson(stack, name, roles);
  return { ...person, key: await loginToken(stack, person) };
}

/** `oneseal login` in the stack: later CLI commands act as this person. */
export async function cliLogin(stack: Stack, person: Pick<TestPerson, 'name' | 'password'>, otp?: string): Promise<void> {
  const file = path.join(stack.dir, `${person.name}.password`);
  writeFileSync(file, `${person.password}\n`, { mode: 0o600 });
  const r = await stack.cli(['login', '--name', person.name, '--password-file', file, ...(otp ? ['--otp', otp] : [])]);
  if (r.code !== 0) throw new Error(`oneseal login ${person.name} failed: ${r.err}`);
}
