// In-app: the notification row written in the routing transaction is the delivery (see
// db/messages/plan.ts insertMessages), so there is nothing to send afterwards.
import type { Adapter } from '../adapter';

export const inAppAdapter: Adapter = {
  kind: 'in_app',
  enabled: true,
  inline: true,
  updatable: false,
  reaches: () => true,
  async send() {
    return { outcome: 'sent', delivered: true };
  },
  health: () => ({ status: 'ok' }),
};
