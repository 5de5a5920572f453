/**
 * Who is acting: a person (logged in, with roles), a system client (an API key, with scopes and
 * grants), the PIN holder on the server (break-glass), or the service itself (the rotation scheduler).
 * Every audit entry names one by its label: person:NAME, client:NAME, break-glass:OSUSER, system:….
 */
import type { Role } from '../store/people.js';
import type { Scope } from '../store/clients.js';

export interface PersonActor {
  kind: 'person';
  id: string;
  name: string;
  roles: readonly Role[];
  /** The session the request came with (people may hold several). */
  sessionId: string;
  /** The service centre the person works for; null or absent: the district hall. */
  centre?: string | null;
}

export interface ClientActor {
  kind: 'client';
  id: string;
  name: string;
  seals: readonly string[];
  scopes: readonly Scope[];
  licenceTypes: readonly string[];
  /** The service centre the client belongs to; null or absent: the district hall. */
  centre?: string | null;
}

export interface BreakGlassActor {
  kind: 'break-glass';
  osUser: string;
}

export interface SystemActor {
  kind: 'system';
  /** e.g. "scheduler (policy approved by person:alice, person:bob)", "init". */
  name: string;
}

export type Actor = PersonActor | ClientActor | BreakGlassActor | SystemActor;

export function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case 'person':
      return `person:${actor.name}`;
    case 'client':
      return `client:${actor.name}`;
    case 'break-glass':
      return `break-glass:${actor.osUser}`;
    case 'system':
      return `system:${actor.name}`;
  }
}

/** What two-person control compares: a person's id; other actors never count as a second person. */
export function actorIdentity(actor: Actor): string {
  return actor.kind === 'person' ? actor.id : actorLabel(actor);
}
