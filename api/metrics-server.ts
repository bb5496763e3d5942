// A worker-only process (`--role=worker`) has no API server, yet its counters (messages, webhook deliveries,
// escalations) live in its own memory: with HERALD_METRICS_PORT it serves /metrics, /healthz and /readyz
// there, for Prometheus and the container health check (deploy/).
import { Hono } from 'hono';
import { serve, type ServerType } from '@hono/node-server';
import type { ApiContext } from './context';
import { opsRoutes } from './routes/ops';

export async function startMetricsServer(ctx: ApiContext, port: number, hostname: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const app = new Hono();
  app.route('/', opsRoutes(ctx));
  const server = await new Promise<ServerType>((resolve) => { const s = serve({ fetch: app.fetch, port, hostname }, () => resolve(s)); });
  const addr = server.address();
  return {
    port: addr && typeof addr === 'object' ? addr.port : port,
    stop: () => new Promise<void>((r) => { server.close(() => r()); (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.(); }),
  };
}
