// The Slack app manifests an admin pastes must match what Herald serves and calls.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const load = (f: string) => parse(readFileSync(new URL(`../../docs/${f}`, import.meta.url), 'utf8'));
const NEEDED = ['chat:write', 'im:write', 'users:read', 'users:read.email', 'commands', 'files:write'];

describe('Slack app manifests', () => {
  it('HTTP mode: /herald and interactivity go to POST /slack/events, with every scope Herald uses', () => {
    const m = load('slack-app-manifest.yaml');
    expect(m.oauth_config.scopes.bot).toEqual(expect.arrayContaining(NEEDED));
    expect(m.features.slash_commands).toHaveLength(1);
    expect(m.features.slash_commands[0]).toMatchObject({ command: '/herald', url: 'https://herald.example.com/slack/events' });
    expect(m.settings).toMatchObject({ socket_mode_enabled: false, interactivity: { is_enabled: true, request_url: 'https://herald.example.com/slack/events' } });
  });

  it('Socket Mode: the same app without URLs', () => {
    const m = load('slack-app-manifest.socket-mode.yaml');
    expect(m.oauth_config.scopes.bot).toEqual(expect.arrayContaining(NEEDED));
    expect(m.features.slash_commands[0].command).toBe('/herald');
    expect(m.features.slash_commands[0].url).toBeUndefined();
    expect(m.settings).toMatchObject({ socket_mode_enabled: true, interactivity: { is_enabled: true } });
    expect(m.settings.interactivity.request_url).toBeUndefined();
  });
});
