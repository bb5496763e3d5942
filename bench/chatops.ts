// Chat-ops bench: "acknowledge in Slack → every Slack and Discord message of the alert edited" (docs/design.md
// Quality bars: p99 ≤ 300 ms).
//
// Herald runs as its own process (bench/lib spawnHerald) with the real Slack and Discord SDKs pointed at
// the local fakes (test/fakes), which run in this process and timestamp every call they receive. N alerts
// each get a Slack DM, a Slack channel post and a Discord channel post. Then, one alert at a time, a signed
// `block_actions` click on the DM's Acknowledge is POSTed to /slack/events; the sample is the time from
// sending the click until the fakes have seen all three messages edited: the Slack channel post
// (chat.update), the Discord post (PATCH) and the DM (its response_url replace or chat.update, whichever
// comes first).
//
// Standalone: `tsx bench/chatops.ts` (env CHATOPS_ALERTS, default 200) prints the figures.
import { fileURLToPath } from 'node:url';
import { api, freshDatabase, percentile, sleep, spawnHerald, startPostgres, type BenchPg, type HeraldChild } from './lib';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../test/fakes/slack';
import { blockActionsPayload, signSlackRequest, SLACK_FORM_CONTENT_TYPE } from '../test/fakes/slack-sign';
import { startFakeDiscord, type FakeDiscord, type FakeDiscordCall } from '../test/fakes/discord';
import { DEFAULT_APPLICATION_ID, DEFAULT_GUILD_ID, discordKeyPair } from '../test/fakes/discord-sign';

const SLACK_TOKEN = 'xoxb-bench';
const SLACK_SECRET = 'bench-slack-signing-secret';
const DISCORD_TOKEN = 'discord-bench-token';
const ROOM = '1300000000000000099';
const ANA_SLACK = 'U0BENCHANA';
const ANA_DISCORD = '300000000000000042';

interface Posted { dm?: { channel: string; ts: string }; room?: { channel: string; ts: string }; discord?: { channel: string; id: string } }

const alertIdOfBlocks = (blocks: any[] | undefined): number | null => {
  const actions = (blocks ?? []).find((b) => b.type === 'actions');
  const v = actions?.elements?.find((e: any) => e.action_id === 'herald_ack')?.value;
  return v ? Number(v) : null;
};

/** Resolves when `pred` holds for a call recorded at index ≥ from (already or later). */
function firstCall<T extends { at: number }>(calls: T[], pred: (c: T) => boolean, from: number, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let i = from;
    const end = Date.now() + timeoutMs;
    const tick = () => {
      for (; i < calls.length; i++) if (pred(calls[i])) return resolve(calls[i]);
      if (Date.now() > end) return reject(new Error('edit not seen in time'));
      setImmediate(tick);
    };
    tick();
  });
}

export async function benchChatops(opts: { alerts?: number; log?: (...a: unknown[]) => void } = {}): Promise<{ p50: number; p99: number; samples: number }> {
  const n = opts.alerts ?? Number(process.env.CHATOPS_ALERTS ?? 200);
  const say = opts.log ?? (() => {});
  let pg: BenchPg | null = null;
  let herald: HeraldChild | null = null;
  let slack: FakeSlack | null = null;
  let discord: FakeDiscord | null = null;
  let dropDb: (() => Promise<void>) | null = null;
  try {
    pg = await startPostgres();
    const db = await freshDatabase(pg);
    dropDb = db.drop;
    slack = await startFakeSlack({ token: SLACK_TOKEN });
    discord = await startFakeDiscord({ token: DISCORD_TOKEN });
    const keys = discordKeyPair();
    herald = await spawnHerald(db.url, {
      SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SLACK_SECRET, SLACK_API_URL: slack.url,
      DISCORD_BOT_TOKEN: DISCORD_TOKEN, DISCORD_APPLICATION_ID: DEFAULT_APPLICATION_ID, DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_API_URL: discord.api, DISCORD_GUILD_ID: DEFAULT_GUILD_ID,
      // The bench's other scenarios tune polling through the environment; escalation timers are not in play here.
      HERALD_POLL_INTERVAL_MS: process.env.HERALD_POLL_INTERVAL_MS ?? '100',
    });
    const base = herald.url;
    await api(base, 'POST', '/v1/users', { name: 'Ana Bench', email: 'ana-bench@example.com', roles: ['accounting'], slack_user_id: ANA_SLACK, discord_user_id: ANA_DISCORD });
    await api(base, 'POST', '/v1/rules', {
      name: 'Chat-ops bench', position: 1, match: { category: 'chatops', type: null }, targets: { roles: ['accounting'] },
      channels: ['slack', 'discord'], priority: 'high', escalation: { steps: [{ after_minutes: 600, roles: ['admin'] }], repeat: 0 },
      slack_channel: '#bench-alerts', discord_channel: ROOM,
    });

    // N alerts, each posted three times.
    const t0 = Date.now();
    for (let i = 0; i < n; i += 500) {
      const events = Array.from({ length: Math.min(500, n - i) }, (_, j) => ({ category: 'chatops', type: 'bench', title: `Bench alert ${i + j}`, dedup_key: `chatops-${i + j}` }));
      await api(base, 'POST', '/v1/events/batch', { events });
    }
    const posted = new Map<number, Posted>();
    const collect = () => {
      posted.clear();
      for (const c of slack!.callsOf('chat.postMessage')) {
        if (!c.response?.ok) continue;
        const id = alertIdOfBlocks(c.body.blocks);
        if (id === null) continue;
        const p = posted.get(id) ?? {};
        if (c.body.channel === ANA_SLACK) p.dm = { channel: c.response.channel, ts: c.response.ts };
        else p.room = { channel: c.response.channel, ts: c.response.ts };
        posted.set(id, p);
      }
      for (const c of discord!.callsOf('POST', new RegExp(`/channels/${ROOM}/messages$`))) {
        if (c.status !== 200) continue;
        const cid = c.body.components?.[0]?.components?.find((b: any) => String(b.custom_id).startsWith('herald:ack:'))?.custom_id;
        if (!cid) continue;
        const id = Number(String(cid).split(':')[2]);
        const p = posted.get(id) ?? {};
        p.discord = { channel: c.response.channel_id, id: c.response.id };
        posted.set(id, p);
      }
      return [...posted.values()].filter((p) => p.dm && p.room && p.discord).length;
    };
    const deadline = Date.now() + 120_000;
    while (collect() < n) {
      if (Date.now() > deadline) throw new Error(`only ${collect()} of ${n} alerts were posted to Slack and Discord`);
      await sleep(100);
    }
    say(`  ${n} alerts posted to a Slack DM, a Slack channel and a Discord channel in ${Date.now() - t0} ms`);
    await sleep(500);

    // Click Acknowledge in each DM, one at a time.
    const samples: number[] = [];
    const endpoint = `${base}/slack/events`;
    for (const [alertId, p] of posted) {
      const responseUrl = slack.responseUrl();
      const body = blockActionsPayload({ userId: ANA_SLACK, actionId: 'herald_ack', value: String(alertId), channelId: p.dm!.channel, messageTs: p.dm!.ts, responseUrl });
      const fromSlack = slack.calls.length;
      const fromDiscord = discord.calls.length;
      const respPath = new URL(responseUrl).pathname;
      const startedAt = Date.now();
      const wait = (ms: number) => Promise.all([
        firstCall<FakeSlackCall>(slack!.calls, (c) => c.method === 'chat.update' && c.body.ts === p.room!.ts && c.response?.ok, fromSlack, ms),
        Promise.any([
          firstCall<FakeSlackCall>(slack!.calls, (c) => c.method === 'response_url' && c.path === respPath, fromSlack, ms),
          firstCall<FakeSlackCall>(slack!.calls, (c) => c.method === 'chat.update' && c.body.ts === p.dm!.ts && c.response?.ok, fromSlack, ms),
        ]),
        firstCall<FakeDiscordCall>(discord!.calls, (c) => c.method === 'PATCH' && c.path.endsWith(`/messages/${p.discord!.id}`) && c.status === 200, fromDiscord, ms),
      ]);
      const edits = wait(10_000);
      const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': SLACK_FORM_CONTENT_TYPE, ...signSlackRequest(SLACK_SECRET, body) }, body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`click answered ${res.status}`);
      const seen = await edits;
      // The fakes stamp each call with Date.now() when it arrives: the last edit's stamp minus the click's send time.
      const last = Math.max(...seen.flat().map((c) => c.at));
      samples.push(Math.max(last - startedAt, 0));
    }
    return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length };
  } finally {
    await herald?.stop().catch(() => {});
    await slack?.close().catch(() => {});
    await discord?.close().catch(() => {});
    await dropDb?.().catch(() => {});
    await pg?.stop().catch(() => {});
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const log = (...a: unknown[]) => console.log(`[chatops ${new Date().toISOString().slice(11, 23)}]`, ...a);
  log('acknowledge in Slack → every Slack and Discord message of the alert edited');
  benchChatops({ log })
    .then((r) => {
      console.log(`\n| figure | value | target |\n|---|---|---|`);
      console.log(`| ack in Slack → all messages edited, p50 | ${r.p50.toFixed(0)} ms | |`);
      console.log(`| ack in Slack → all messages edited, p99 | ${r.p99.toFixed(0)} ms | ≤ 300 ms |`);
      console.log(`| samples | ${r.samples} | |`);
      process.exit(0);
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
