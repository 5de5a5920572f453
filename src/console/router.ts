/**
 * The console's request handling, shared by every page: who is logged in (the session cookie), the
 * language, the CSRF check on every POST, the policy check for a section, and errors shown as a page
 * (never a stack trace). The server refuses what the policy refuses whatever a page shows: each
 * handler calls the same access functions as the API, which ask the policy table themselves.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { PersonActor } from '../access/actors.js';
import { credentialsShared } from '../access/people.js';
import { authorize, type Action } from '../access/policy.js';
import { authenticateSession, isSessionToken } from '../access/sessions.js';
import { limiterFor } from '../api/auth.js';
import { toProblem } from '../api/problem.js';
import { OneSealError } from '../errors.js';
import type { Services } from '../services.js';
import { CONSOLE_CSP } from './assets.js';
import { layout, notice, view, type View } from './components.js';
import { html, type Part } from './html.js';
import { langOf, type Word } from './i18n.js';
import { checkCsrf, clearSessionCookie, Form, LANG_COOKIE, readCookie, readForm, SESSION_COOKIE, sessionCsrf } from './web-session.js';

export interface PageReply {
  title: string;
  section?: Word;
  body: Part;
  status?: number;
}

/** A page, a redirect, or `sent`: the handler wrote the response itself (a PDF download). */
export type Reply = PageReply | { redirect: string } | { sent: true };

export interface ConsoleRequest {
  ctx: Context;
  services: Services;
  v: View;
  actor: PersonActor;
  query(name: string): string;
}

export type PageHandler = (req: ConsoleRequest) => Promise<Reply>;
export type FormHandler = (req: ConsoleRequest, form: Form) => Promise<Reply>;

export function sendPage(ctx: Context, v: View, reply: PageReply): void {
  ctx.status = reply.status ?? 200;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  ctx.body = layout(v, reply).text;
}

function send(ctx: Context, v: View, reply: Reply): void {
  if ('sent' in reply) return;
  if ('redirect' in reply) {
    ctx.status = 303;
    ctx.redirect(reply.redirect);
    return;
  }
  sendPage(ctx, v, reply);
}

export function requestLang(ctx: Context): ReturnType<typeof langOf> {
  return langOf(ctx.query.lang ?? readCookie(ctx, LANG_COOKIE));
}

/** A refusal or failure as a page: the problem's status and its message. */
export function errorReply(ctx: Context, v: View, e: unknown, body: Part = ''): PageReply {
  const problem = toProblem(e, ctx.state.requestId as string, ctx.path);
  const title = problem.status === 403 || problem.status === 409 || problem.status === 422 ? v.t('refused') : v.t('error');
  return { title, status: problem.status, body: html`${notice('bad', problem.body.detail ?? problem.body.title)}${body}` };
}

export const WELCOME_PATH = '/console/welcome';

export class ConsoleRouter {
  constructor(private readonly router: Router, readonly services: Services) {}

  private async actorOf(ctx: Context): Promise<PersonActor | undefined> {
    const token = readCookie(ctx, SESSION_COOKIE);
    if (!token || !isSessionToken(token)) return undefined;
    try {
      const actor = await authenticateSession(this.services, token);
      const decision = limiterFor(this.services).take(`person:${actor.id}`);
      if (!decision.allowed) {
        throw new OneSealError('rate-limited', 'rate-limited', `Too many requests; retry after ${decision.retryAfterSeconds} s.`, { retryAfter: decision.retryAfterSeconds });
      }
      return actor;
    } catch (e) {
      if (e instanceof OneSealError && e.kind === 'unauthorized') {
        clearSessionCookie(ctx, this.services.config.publicUrl);
        return undefined;
      }
      throw e;
    }
  }

  private request(ctx: Context, actor: PersonActor): ConsoleRequest {
    const v = view(requestLang(ctx), ctx.originalUrl, sessionCsrf(this.services.secrets, actor), actor);
    return {
      ctx,
      services: this.services,
      v,
      actor,
      query: (name) => {
        const value = ctx.query[name];
        return typeof value === 'string' ? value.trim() : '';
      },
    };
  }

  /** A page for people whose roles allow `needs`; others get 403, strangers the login page. */
  page(path: string, needs: Action | undefined, handler: PageHandler, options: { welcome?: boolean } = {}): void {
    this.router.get(path, async (ctx) => {
      const actor = await this.actorOf(ctx);
      if (!actor) {
        ctx.status = 303;
        ctx.redirect(`/console/login?next=${encodeURIComponent(ctx.originalUrl)}`);
        return;
      }
      const req = this.request(ctx, actor);
      try {
        if (!options.welcome && (await credentialsShared(this.services.store.db, actor))) return send(ctx, req.v, { redirect: WELCOME_PATH });
        if (needs) authorize(actor, needs);
        send(ctx, req.v, await handler(req));
      } catch (e) {
        sendPage(ctx, req.v, errorReply(ctx, req.v, e));
      }
    });
  }

  /** A state-changing form post: a session and its CSRF token first, then the handler (which asks the policy). */
  action(path: string, handler: FormHandler): void {
    this.router.post(path, async (ctx) => {
      const actor = await this.actorOf(ctx);
      const v = actor ? this.request(ctx, actor).v : view(requestLang(ctx), '/console/login', '');
      try {
        if (!actor) throw new OneSealError('not-logged-in', 'unauthorized', 'You are not logged in (or your session ended); log in again.');
        const form = await readForm(ctx);
        checkCsrf(form, sessionCsrf(this.services.secrets, actor));
        send(ctx, v, await handler(this.request(ctx, actor), form));
      } catch (e) {
        sendPage(ctx, v, errorReply(ctx, v, e));
      }
    });
  }
}
