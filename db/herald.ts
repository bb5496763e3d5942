// What every verb and job receives: the database, the configuration, the instance key, and what the
// engine knows about each channel (from bot/, without db/ depending on provider code).
import type { Config } from './platform/config';
import type { ChannelMap } from './model/channels';
import type { Pool } from './platform/sql';

export interface Herald {
  sql: Pool;
  config: Config;
  /** Instance key: encrypts webhook secrets, signs links and sessions. */
  key: Buffer;
  channels: ChannelMap;
}
