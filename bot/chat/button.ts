// The one button flow Slack and Discord share: claim the interaction (a provider's retry or a replayed
// interaction changes nothing), identify the person, act through the verb, and hand back what to answer.
// The adapters only translate the provider's payload in and the outcome's rendering out.
import type { Herald } from '../../db/herald';
import type { Actor } from '../../db/actor';
import type { AlertAction } from '../../db/alerts/act';
import { claimInteraction } from '../../db/chat/interactions';
import { actorFor, CHAT_ORG_ID, identify, linkUrl, performAction, type ChatOutcome, type ChatPerson } from './core';

export type ButtonOutcome =
  /** This interaction was seen before: do nothing, answer nothing new. */
  | { kind: 'duplicate' }
  /** Nobody in Herald matches the chat account: answer with the link to connect it. */
  | { kind: 'unlinked'; outcome: ChatOutcome }
  /** The verb refused (already acknowledged by X, resolved, forbidden, unknown): say so privately. */
  | { kind: 'refused'; outcome: ChatOutcome }
  /** Acted: the clicked message should show `outcome.alert`; other messages follow through message__update jobs. */
  | { kind: 'acted'; outcome: Extract<ChatOutcome, { kind: 'acted' }>; actor: Actor };

export interface ButtonPress {
  person: ChatPerson;
  /** Unique per delivery of this click: the claim that makes a retry harmless. */
  claimKey: string;
  alertId: number;
  action: AlertAction;
  minutes: number;
  /** Slack: the profile email, to find an unlinked Herald user by email. */
  emailOf?: () => Promise<string | null>;
}

export async function pressButton(h: Herald, press: ButtonPress): Promise<ButtonOutcome> {
  const { person } = press;
  if (!(await claimInteraction(h.sql, CHAT_ORG_ID, person.provider, press.claimKey))) return { kind: 'duplicate' };
  const user = await identify(h, person.provider, person.chatId, press.emailOf);
  if (!user) return { kind: 'unlinked', outcome: { kind: 'unlinked', url: linkUrl(h, person) } };
  const actor = actorFor(user, person.provider);
  const outcome = await performAction(h, actor, press.alertId, press.action, press.minutes, { button: true });
  return outcome.kind === 'acted' ? { kind: 'acted', outcome, actor } : { kind: 'refused', outcome };
}
