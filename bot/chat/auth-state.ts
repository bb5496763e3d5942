// A chat adapter's bot-token health: an auth failure is logged once per cause and shown in /readyz
// (health()) until a call succeeds again. Shared by the Slack and Discord adapters.
import type { ChannelHealth } from '../adapter';
import { log } from '../../db/platform/log';

export class AuthState {
  /** Why the provider refuses the bot token, or null while it works. */
  problem: string | null = null;
  constructor(private readonly provider: string) {}

  /** A call succeeded: the token works (logged when it did not before). */
  ok(): void {
    if (this.problem) log.info(`${this.provider}: the bot token works again`);
    this.problem = null;
  }

  /** The provider refused the token; logged only when the cause changes. */
  fail(detail: string): void {
    if (this.problem !== detail) log.error(`${this.provider}: ${detail}`);
    this.problem = detail;
  }

  /** The error health while the token is refused, else null. */
  health(): ChannelHealth | null {
    return this.problem ? { status: 'error', detail: this.problem } : null;
  }
}
