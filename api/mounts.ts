// Routers contributed by channel and PWA modules (provider endpoints, notifications, stream, push).
// Each module adds its Mount here.
import type { Mount } from './app';

export const MOUNTS: Mount[] = [];
