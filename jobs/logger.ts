// graphile-worker's logger for Herald: errors as JSON lines, the rest silent. Used by the worker and by the
// migration step that installs graphile-worker's schema.
import { Logger } from 'graphile-worker';

export const quietLogger = new Logger(() => (level: string, message: string) => {
  // Idle pool clients see this when PostgreSQL stops after the worker during shutdown: not an error.
  if (level === 'error' && !message.includes('terminating connection due to administrator command')) console.error(JSON.stringify({ level: 'error', component: 'worker', msg: message }));
});
