// Slack answers to chat-ops outcomes (bot/chat/core.ts): the ephemeral replies to `/herald` and to clicks.
// Outside text (names, alert titles, refusal details that quote actor names) is escaped for mrkdwn.
import type { types as slackTypes } from '@slack/bolt';
import { ACTION_PAST, LINK_TTL_MINUTES, minutesText, type ChatOutcome } from '../chat/core';
import { alertBlocks, alertListBlocks, escapeMrkdwn, helpText } from './blocks';

export interface SlackReply {
  text: string;
  blocks?: slackTypes.KnownBlock[];
}

const section = (text: string): slackTypes.KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } });

export function unlinkedText(url: string): string {
  return `:wave: Herald doesn't know your Slack account yet, so nothing was changed. <${url}|Link your Slack account to Herald> (sign in to Herald, then confirm; the link works for ${LINK_TTL_MINUTES} minutes), or ask an admin to add your Slack id to your Herald user.`;
}

export function slackReply(o: ChatOutcome): SlackReply {
  switch (o.kind) {
    case 'help': {
      const lead = o.unknown ? `I didn't understand \`${escapeMrkdwn(o.unknown.slice(0, 200))}\`.\n` : '';
      const text = lead + helpText();
      return { text, blocks: [section(text)] };
    }
    case 'link': {
      const now = o.linkedTo ? ` It is linked to *${escapeMrkdwn(o.linkedTo)}* now; opening the link as someone else moves it.` : '';
      const text = `<${o.url}|Link my Slack account to Herald> — open it while signed in to Herald and confirm. It works for ${LINK_TTL_MINUTES} minutes.${now}`;
      return { text, blocks: [section(text)] };
    }
    case 'unlinked': {
      const text = unlinkedText(o.url);
      return { text, blocks: [section(text)] };
    }
    case 'list':
      return alertListBlocks(o.alerts);
    case 'acted': {
      const extra = o.action === 'snooze' && o.minutes ? ` for ${minutesText(o.minutes)}` : '';
      const text = `:white_check_mark: ${ACTION_PAST[o.action]} #${o.alert.id}${extra} — ${escapeMrkdwn(o.alert.title)}`;
      return { text, blocks: [section(text), ...alertBlocks(o.alert).blocks] };
    }
    case 'refused': {
      const text = `:warning: ${escapeMrkdwn(o.message)}`;
      return { text, blocks: [section(text)] };
    }
    case 'oncall': {
      if (!o.roles.length && !o.schedules.length) {
        const text = 'Nobody holds a role yet: an alert would reach no one. Add people in Herald (Admin → Users).';
        return { text, blocks: [section(text)] };
      }
      const lines = [`*On call now*${o.asked ? ` for ${escapeMrkdwn(o.asked)}` : ''} — who an alert for the role would reach, and where:`];
      for (const sc of o.schedules) {
        lines.push(`*${escapeMrkdwn(sc.name)}* (schedule)`);
        if (!sc.people.length) lines.push('  • nobody is on call now: an alert for it would reach no one');
        for (const p of sc.people) lines.push(`  • ${escapeMrkdwn(p.name)} — ${p.channels.length ? p.channels.join(', ') : 'no channel reaches them'}`);
      }
      for (const r of o.roles) {
        lines.push(`*${escapeMrkdwn(r.name)}* (\`${r.key}\`)`);
        if (!r.people.length) lines.push('  • nobody holds this role: an alert for it would reach no one');
        for (const p of r.people) lines.push(`  • ${escapeMrkdwn(p.name)} — ${p.channels.length ? p.channels.join(', ') : 'no channel reaches them'}`);
      }
      if (o.emptyRoles) lines.push(`_${o.emptyRoles} other role${o.emptyRoles === 1 ? ' has' : 's have'} nobody._`);
      const text = lines.join('\n');
      // One section per ~3000 characters (Slack's limit), at most 45 sections.
      const blocks: slackTypes.KnownBlock[] = [];
      let chunk = '';
      for (const line of lines) {
        if ((chunk + '\n' + line).length > 2900) { blocks.push(section(chunk)); chunk = line; } else chunk = chunk ? `${chunk}\n${line}` : line;
      }
      if (chunk) blocks.push(section(chunk));
      return { text: text.slice(0, 3000), blocks: blocks.slice(0, 45) };
    }
  }
}
