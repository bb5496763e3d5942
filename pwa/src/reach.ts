// Can I be reached? Push on this device (the browser's own subscription) and my working channels on the
// server (GET /v1/reachability/me). The queue says so when either is missing.
import { api } from './api';
import { pushState, type PushState } from './push';
import { createStore } from './store';

export interface MyReach {
  working: string[];
  channels: Array<{ channel: string; state: string; text: string }>;
}

export const reach = createStore<{ push: PushState | null; me: MyReach | null }>({ push: null, me: null });

export async function loadReach(): Promise<void> {
  const [push, me] = await Promise.all([
    pushState().catch((): PushState => 'unsupported'),
    api.get<MyReach>('/v1/reachability/me').catch(() => null),
  ]);
  reach.set({ push, me });
}
