// Routers contributed by channel and PWA modules (provider endpoints, notifications, stream, push).
// Each module adds its Mount here.
import type { Mount } from './app';
import { pwaRoutes } from './routes/pwa';
import { twilioRoutes } from './routes/twilio';
import { emailLinkRoutes } from './routes/email-links';
import { chatMount } from './routes/chat';
import { analyticsRoutes } from './routes/analytics';
import { scoringRoutes } from './routes/scoring';
import { reportRoutes } from './routes/reports';
import { auditRoutes } from './routes/audit';

export const MOUNTS: Mount[] = [
  (app, ctx) => app.route('/', pwaRoutes(ctx)),
  (app, ctx) => app.route('/', twilioRoutes(ctx)),
  (app, ctx) => app.route('/', emailLinkRoutes(ctx)),
  chatMount,
  (app, ctx) => app.route('/', analyticsRoutes(ctx)),
  (app, ctx) => app.route('/', scoringRoutes(ctx)),
  (app, ctx) => app.route('/', reportRoutes(ctx)),
  (app, ctx) => app.route('/', auditRoutes(ctx)),
];
