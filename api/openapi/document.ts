// The OpenAPI 3.1 document, written from the registry (registry.ts): each route's request body and query
// parameters are the JSON Schema (2020-12, OpenAPI 3.1's dialect) of the zod schemas the verbs validate with
// (zod 4's z.toJSONSchema, input side); errors are the problem+json shape every route answers with.
import { z } from 'zod';
import { ROUTES, type RouteDoc } from './registry';

type Json = Record<string, unknown>;

const schemaOf = (s: z.ZodType): Json => {
  const j = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete j.$schema;
  return j;
};

const PROBLEM: Json = {
  type: 'object', required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};

const MEDIA: Record<NonNullable<RouteDoc['produces']>, string | null> = {
  json: 'application/json', text: 'text/plain', html: 'text/html', javascript: 'text/javascript', csv: 'text/csv', 'event-stream': 'text/event-stream', none: null,
};

/** `/v1/alerts/:id` → `/v1/alerts/{id}` and its parameter names. */
export function openApiPath(honoPath: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = honoPath.replace(/:([A-Za-z0-9_]+)/g, (_, n: string) => { params.push(n); return `{${n}}`; });
  return { path, params };
}

function queryParameters(q: z.ZodType): Json[] {
  const j = schemaOf(q);
  const props = (j.properties ?? {}) as Record<string, Json>;
  const required = new Set((j.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, schema]) => ({ name, in: 'query', required: required.has(name), schema }));
}

function operation(key: string, d: RouteDoc, params: string[]): Json {
  const status = String(d.status ?? 200);
  const media = MEDIA[d.produces ?? 'json'];
  const op: Json = {
    operationId: key.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, ''),
    tags: [d.tag],
    summary: d.summary,
    parameters: [
      ...params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...(d.query ? queryParameters(d.query) : []),
    ],
    responses: {
      [status]: { description: d.summary, ...(media ? { content: { [media]: { schema: d.response ? schemaOf(d.response) : {} } } } : {}) },
      default: { description: 'An error (problem details)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
    },
  };
  if (d.body) op.requestBody = { required: true, content: { 'application/json': { schema: schemaOf(d.body) } } };
  else if (d.bodyKind === 'text') op.requestBody = { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: {} } } };
  else if (d.bodyKind === 'form') op.requestBody = { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object' } } } };
  const auth = d.auth ?? 'bearer';
  op.security = auth === 'bearer' ? [{ apiKey: [] }, { session: [] }] : [];
  if (auth === 'path-key') op.description = 'Authenticated by the secret key in the path or body, not by an API key.';
  if (auth === 'provider') op.description = 'Called by the provider; authenticated by its request signature.';
  return op;
}

let cached: Json | null = null;

export function openApiDocument(serverUrl?: string): Json {
  if (cached && !serverUrl) return cached;
  const paths: Record<string, Record<string, Json>> = {};
  for (const [key, d] of Object.entries(ROUTES)) {
    const [method, honoPath] = key.split(' ');
    const { path, params } = openApiPath(honoPath);
    (paths[path] ??= {})[method.toLowerCase()] = operation(key, d, params);
  }
  const doc: Json = {
    openapi: '3.1.0',
    info: {
      title: 'Herald API', version: '1',
      description: 'Routes business alerts to people and escalates. JSON over HTTP; errors are application/problem+json. Request schemas are generated from the zod schemas Herald validates with.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set(Object.values(ROUTES).map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Problem: PROBLEM },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: Authorization: Bearer hk_…' },
        session: { type: 'apiKey', in: 'cookie', name: 'herald_session', description: 'The PWA\'s session cookie (writes also send X-CSRF-Token)' },
      },
    },
  };
  if (!serverUrl) cached = doc;
  return doc;
}
