import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertView } from '../../db/model/alert';
import { PRIORITIES } from '../../db/model/levels';
import { sampleAlert } from '../../test/fakes/alert-fixture';
import {
  alertSubject,
  CATEGORY_ACCENTS,
  categoryAccent,
  escapeHtml,
  PRIORITY_STYLES,
  renderAlertEmail,
  renderConfirmPage,
  renderStatePage,
} from './render';

const alertView = (over: Partial<AlertView> = {}): AlertView =>
  sampleAlert({
    body: 'Globex has not paid invoice 1042.\n\nLast reminder sent on 2024-04-15.',
    metadata: { amount: 12400, currency: 'EUR', customer_name: 'Globex', tags: ['key-account'] },
    entity: { kind: 'invoice', id: '1042', name: 'INV-1042' },
    escalation: { level: 0, next_at: '2024-05-01T15:03:00.000Z', next_to: 'Admin' },
    sop: { title: 'Chase the invoice', steps: ['Call the customer', 'Log the promise date'], url: 'https://wiki.example.com/sop/invoices' },
    ...over,
  });

const links = {
  open: 'http://127.0.0.1:8080/alerts/1042',
  ack: 'http://127.0.0.1:8080/email/act?t=ack.sig&x=1',
  resolve: 'http://127.0.0.1:8080/email/act?t=res.sig',
};

/** Text content of an HTML fragment, roughly (tags removed, entities decoded). */
const textOf = (html: string) =>
  html
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));

describe('renderAlertEmail', () => {
  it('has the documented subject', () => {
    expect(renderAlertEmail(alertView(), links, 'triggered').subject).toBe('[HIGH] Finance: Invoice 1042 overdue');
    expect(renderAlertEmail(alertView(), links, 'escalated').subject).toBe('[HIGH] Finance: Invoice 1042 overdue (escalated)');
    expect(alertSubject(alertView({ priority: 'critical', category: 'shop_floor', title: 'Press\r\n3 down' }), 'triggered')).toBe(
      '[CRITICAL] Shop floor: Press 3 down',
    );
  });

  it('shows title, body, key fields, SOP steps and the escalation in both bodies', () => {
    const { html, text } = renderAlertEmail(alertView(), links, 'triggered');
    for (const body of [textOf(html), text]) {
      expect(body).toContain('Invoice 1042 overdue');
      expect(body).toContain('Globex has not paid invoice 1042.');
      expect(body).toMatch(/Invoice:? INV-1042 \(1042\)/);
      expect(body).toMatch(/Source:? accounting/);
      expect(body).toMatch(/Amount:? 12400/);
      expect(body).toMatch(/Customer name:? Globex/);
      expect(body).toMatch(/Tags:? \["key-account"\]/);
      expect(body).toContain('What to do: Chase the invoice');
      expect(body).toMatch(/1\. Call the customer|Call the customer/);
      expect(body).toContain('Log the promise date');
      expect(body).toContain('Escalates to Admin at 2024-05-01 15:03 UTC unless someone acknowledges it.');
      expect(body).toContain('High priority: needs action soon.');
    }
    expect(text).toContain('1. Call the customer\n2. Log the promise date');
    expect(html).toMatch(/<ol[^>]*>\s*<li>Call the customer<\/li>\s*<li>Log the promise date<\/li>\s*<\/ol>/);
  });

  it('links Acknowledge, Resolve, the alert in the PWA and the SOP, exactly as given', () => {
    const { html, text } = renderAlertEmail(alertView(), links, 'triggered');
    expect(hrefs(html)).toEqual([links.ack, links.resolve, links.open, 'https://wiki.example.com/sop/invoices']);
    expect(html).toContain(`>Acknowledge</a>`);
    expect(html).toContain(`>Resolve</a>`);
    expect(html).toContain(`>Open in Herald</a>`);
    expect(text).toContain(`Acknowledge: ${links.ack}`);
    expect(text).toContain(`Resolve: ${links.resolve}`);
    expect(text).toContain(`Open in Herald: ${links.open}`);
  });

  it('leaves out action links that are not given or no longer apply', () => {
    expect(hrefs(renderAlertEmail(alertView(), { open: links.open }, 'triggered').html)).not.toContain(links.ack);
    const acked = alertView({ status: 'acknowledged', acknowledged_at: '2024-05-01T14:10:00.000Z', acknowledged_by: { kind: 'user', id: 3, name: 'Ana' } });
    const { html, text } = renderAlertEmail(acked, links, 'escalated');
    expect(hrefs(html)).toEqual([links.resolve, links.open, 'https://wiki.example.com/sop/invoices']);
    expect(text).toContain('Acknowledged by Ana at 2024-05-01 14:10 UTC.');
    expect(text).not.toContain('Escalates');
  });

  it('says why it was sent', () => {
    expect(renderAlertEmail(alertView(), links, 'triggered').text).toContain('A new alert needs you.');
    expect(renderAlertEmail(alertView({ escalation: { level: 2, next_at: null, next_to: null } }), links, 'escalated').text).toContain(
      'Escalated to you (level 2): nobody acknowledged this alert in time.',
    );
  });

  it('uses the category accent and the priority label colour', () => {
    for (const priority of PRIORITIES) {
      const { html } = renderAlertEmail(alertView({ priority }), links, 'triggered');
      expect(html).toContain(`background:${PRIORITY_STYLES[priority].color}`);
      expect(html).toContain(`>${PRIORITY_STYLES[priority].label}</span>`);
    }
    for (const [category, color] of Object.entries(CATEGORY_ACCENTS))
      expect(renderAlertEmail(alertView({ category }), links, 'triggered').html).toContain(`background:${color}`);
    // unknown categories still get a stable accent
    expect(categoryAccent('logistics')).toBe(categoryAccent('logistics'));
    expect(renderAlertEmail(alertView({ category: 'logistics' }), links, 'triggered').html).toContain(`background:${categoryAccent('logistics')}`);
  });

  it('escapes everything that came from the event and never links a non-http URL', () => {
    const evil = alertView({
      title: '<script>alert(1)</script> "quoted" & \'single\'',
      body: '<img src=x onerror=alert(1)>',
      source: '<b>src</b>',
      metadata: { '<k>': '<v onclick="x">' },
      entity: { kind: 'invoice', id: '"><svg onload=alert(1)>' },
      sop: { title: '<i>t</i>', steps: ['<a href="javascript:alert(1)">step</a>'], url: 'javascript:alert(1)' },
    });
    const { html, subject } = renderAlertEmail(evil, { open: 'javascript:alert(1)', ack: 'data:text/html,x', resolve: links.resolve }, 'triggered');
    expect(html).not.toMatch(/<script|<img|<svg|<b>|<i>/i);
    expect(html).not.toMatch(/<[^>]*\son[a-z]+=/i); // no event-handler attribute inside any tag
    expect(hrefs(html).every((h) => h.startsWith('http://') || h.startsWith('https://'))).toBe(true);
    expect(hrefs(html)).toContain(evil.url); // the alert's own link replaces an unusable "open" link
    expect(textOf(html)).toContain('<script>alert(1)</script> "quoted" & \'single\'');
    expect(subject).toBe('[HIGH] Finance: <script>alert(1)</script> "quoted" & \'single\'');
  });

  it('property: any event text is escaped, and the text body shows it verbatim on one line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }), fc.string({ maxLength: 200 }), (title, body) => {
        const a = alertView({ title, body, metadata: { note: title } });
        const { html, subject } = renderAlertEmail(a, links, 'triggered');
        // every < in the HTML starts one of our own tags
        for (const m of html.matchAll(/<\/?([a-zA-Z!][^\s>/]*)/g))
          expect(['!doctype', 'html', 'head', 'meta', 'title', 'body', 'div', 'table', 'tr', 'td', 'main', 'p', 'span', 'h1', 'h2', 'a', 'strong', 'br', 'caption', 'th', 'section', 'ol', 'li']).toContain(m[1].toLowerCase());
        expect(subject).not.toMatch(/[\r\n]/);
        expect(subject.length).toBeLessThanOrEqual(200);
      }),
      { numRuns: 300 },
    );
  });

  it('is self-contained and accessible: language, title, no remote resources, presentation tables, no colour-only signals', () => {
    const { html } = renderAlertEmail(alertView(), links, 'triggered');
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<title>[HIGH] Finance: Invoice 1042 overdue</title>');
    expect(html).not.toMatch(/<img|<link|<script|src=|url\(/i);
    expect(html.match(/<table role="presentation"/g)).toHaveLength(2);
    expect(html).toContain('<th scope="row"');
    expect(html).toMatch(/<h1[^>]*>Invoice 1042 overdue<\/h1>/);
  });
});

describe('renderConfirmPage', () => {
  it('is a form that POSTs to the link URL, with no side effect of its own', () => {
    const page = renderConfirmPage({ alert: alertView(), action: 'ack', postUrl: links.ack, fields: { csrf: 'tok"en' } });
    expect(page).toMatch(/<form method="post" action="http:\/\/127\.0\.0\.1:8080\/email\/act\?t=ack\.sig&amp;x=1">/);
    expect(page).toContain('<input type="hidden" name="csrf" value="tok&quot;en">');
    expect(page).toContain('<button type="submit">Acknowledge</button>');
    expect(page).toContain('<h1>Acknowledge alert #1042?</h1>');
    expect(page).toContain('Invoice 1042 overdue');
    expect(page).toContain('<meta name="referrer" content="no-referrer">');
    expect(page).not.toMatch(/<script|<img|<link|src=/i);
    expect(page).toMatch(/^<!doctype html>\n<html lang="en">/);
  });

  it('posts to its own URL when none is given, and refuses foreign schemes', () => {
    expect(renderConfirmPage({ alert: alertView(), action: 'resolve' })).toContain('<form method="post">');
    expect(renderConfirmPage({ alert: alertView(), action: 'resolve', postUrl: '/email/act?t=1' })).toContain('<form method="post" action="/email/act?t=1">');
    expect(renderConfirmPage({ alert: alertView(), action: 'resolve', postUrl: 'javascript:alert(1)' })).toContain('<form method="post">');
    expect(renderConfirmPage({ alert: alertView(), action: 'resolve', postUrl: '//evil.example/x' })).toContain('<form method="post">');
  });
});

describe('renderStatePage', () => {
  it('shows the current state with who acted and when', () => {
    const resolved = alertView({ status: 'resolved', resolved_at: '2024-05-01T16:00:00.000Z', resolved_by: { kind: 'user', id: 3, name: 'Ana <ops>' } });
    const page = renderStatePage(resolved, { notice: 'This link was already used.' });
    expect(page).toContain('<h1>This link was already used.</h1>');
    expect(page).toContain('Resolved by Ana &lt;ops&gt; at 2024-05-01 16:00 UTC.');
    expect(page).toContain('role="status"');
    expect(page).toContain(`href="${resolved.url}"`);
    expect(renderStatePage(alertView())).toContain('<h1>Alert #1042 is open</h1>');
    expect(renderStatePage(alertView({ status: 'acknowledged', acknowledged_at: '2024-05-01T14:10:00.000Z', acknowledged_by: null }))).toContain(
      'Acknowledged by someone at 2024-05-01 14:10 UTC.',
    );
  });

  it('mentions an active snooze', () => {
    const until = new Date(Date.now() + 3600_000).toISOString();
    const page = renderStatePage(alertView({ status: 'acknowledged', acknowledged_at: '2024-05-01T14:10:00.000Z', acknowledged_by: { kind: 'user', name: 'Bo' }, snoozed_until: until }));
    expect(page).toContain(`Snoozed until ${until.slice(0, 16).replace('T', ' ')} UTC.`);
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
