// The one interface every outbound channel implements. The engine (db/, jobs/) never knows which
// provider it talks to: it creates message rows, and `message__send` / `message__update` call these.
import type { ChannelInfo, ChannelKind, RecipientUser } from '../db/model/channels';
import type { AlertView } from '../db/model/alert';
import type { DigestView } from '../db/model/digest';
import type { Config } from '../db/platform/config';
import type { Pool } from '../db/platform/sql';
import type { Herald } from '../db/herald';
import type { SendResult, DeferredResult } from '../db/model/delivery';
export type { SendResult, DeferredResult };

/** A message row joined with everything a provider needs to render and address it. */
export interface OutgoingMessage {
  id: number;
  orgId: number;
  alert: AlertView;
  level: number;
  /** 'user:<id>' or 'room:<slack or discord channel id>' */
  recipient: string;
  user: RecipientUser | null;
  room: string | null;
  channel: ChannelKind;
  attempt: number;
  /** Set for updates: what the earlier send returned. */
  providerRef: string | null;
  providerState: unknown;
  /** The reason this message exists: first notification or an escalation. */
  reason: 'triggered' | 'escalated';
  /** Human-readable "escalates to Admin in 12 min" source: next step's role names and due time. */
  nextEscalation: { at: string; to: string } | null;
}


/** A finished report (db/reports): the file and the words that go with it. */
export interface OutgoingFile {
  filename: string;
  contentType: string;
  data: Buffer;
  /** The report's name (the email's subject, the Slack file's title). */
  title: string;
  /** One paragraph: the period and what the file holds. */
  text: string;
}

/** Where a report file goes: an email address, or a Slack channel (name or id). */
export type FileRecipient = { address: string; name?: string } | { channel: string };

/** A note on an alert, as a thread reply shows it. */
export interface NoteToPost {
  text: string;
  /** Who wrote it. */
  by: string;
}

export interface AdapterContext {
  sql: Pool;
  config: Config;
  key: Buffer;
}

export interface ChannelHealth {
  status: 'ok' | 'off' | 'error';
  detail?: string;
}

export interface Adapter extends ChannelInfo {
  kind: ChannelKind;
  /** Post the alert to the recipient. Must be safe to retry: same message id, same effect. */
  send(msg: OutgoingMessage, ctx: AdapterContext): Promise<SendResult | DeferredResult>;
  /** Edit what `send` posted so it shows the alert's current state (updatable channels only). */
  update?(msg: OutgoingMessage, ctx: AdapterContext): Promise<SendResult>;
  /** Post a note in the thread of what `send` posted (a Slack thread reply, a Discord reply). */
  reply?(msg: OutgoingMessage, note: NoteToPost): Promise<SendResult>;
  /** Email and Slack: one digest covering a person's held low-priority alerts (db/messages/digest.ts). */
  sendDigest?(to: RecipientUser, digest: DigestView, ctx: AdapterContext): Promise<SendResult>;
  /** Email and Slack: a report file, attached to an email or uploaded to a channel (files.uploadV2). */
  sendFile?(to: FileRecipient, file: OutgoingFile, ctx: AdapterContext): Promise<SendResult>;
  health(): ChannelHealth;
  /**
   * API role only, once at start: take inbound work (button clicks, commands, replies) acting through the
   * engine `h`. Socket Mode connects here, never as a side effect of building routes.
   */
  takeInbound?(h: Herald): void;
  /** Start long-lived connections (Socket Mode, command registration); called once per process. */
  start?(ctx: AdapterContext): Promise<void>;
  stop?(): Promise<void>;
}

export type Adapters = Record<ChannelKind, Adapter>;

export function offAdapter(kind: ChannelKind, reason: string, reaches: (u: RecipientUser) => boolean = () => false): Adapter {
  return {
    kind,
    enabled: false,
    inline: false,
    updatable: false,
    reaches,
    async send() {
      return { outcome: 'failed_perm', error: `${kind} is not configured` };
    },
    health: () => ({ status: 'off', detail: reason }),
  };
}
