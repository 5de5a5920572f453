/**
 * The web console at /console/: server-rendered pages (src/console/pages/*) over the same access
 * functions as the API, served by the same process. Not in the OpenAPI document: it is HTML for people.
 */
import type { ServiceRouteRegistrar } from '../api/app.js';
import { registerAuditPages } from './pages/audit.js';
import { registerClientPages } from './pages/clients.js';
import { registerLicencePages } from './pages/licences.js';
import { registerLoginPages } from './pages/login.js';
import { registerOverview } from './pages/overview.js';
import { registerPeoplePages } from './pages/people.js';
import { registerProposalPages } from './pages/proposals.js';
import { registerSealPages } from './pages/seals.js';
import { registerStampPages } from './pages/stamps.js';
import { ConsoleRouter } from './router.js';

export const registerConsoleRoutes: ServiceRouteRegistrar = (router, { services }) => {
  const console = new ConsoleRouter(router, services);
  registerLoginPages(router, console, services);
  registerOverview(console);
  registerProposalPages(console);
  registerSealPages(console);
  registerClientPages(console);
  registerStampPages(console);
  registerLicencePages(console);
  registerAuditPages(console);
  registerPeoplePages(console);
};
