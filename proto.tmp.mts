import { renderPdf } from './db/reports/render/pdf';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { writeFileSync } from 'node:fs';
const title = 'Rechnung überfällig — 請求書 — Счёт';
for (const name of ['Plain weekly', title + ' Ελληνικά ά']) {
  const t0 = performance.now();
  const buf = await renderPdf({ name, generatedAt: new Date(), tz: 'UTC', doc: { title: 'Scores', details: [['Period', 'x'], ['Kunde', 'Müller — 東京 — Ωmega']], figures: [{ label: 'Entities', value: '5', note: 'Ελληνικά 請求書' }], charts: [{ title: 'Distribution 請求書', type: 'bar', labels: ['a', '請求書', 'Счёт'], datasets: [{ label: 'n', data: [1, 2, 3], color: '#1d4ed8' }] }], tables: [{ title: 'T', columns: [{ label: 'Name' }, { label: 'Value', align: 'right' }], rows: [['Ελληνικά 請求書 Счёт long long long text that wraps around a bit maybe', '1'], ['x', '請求書']] }], rows: 1 } });
  console.log(name, buf.length, Math.round(performance.now() - t0), 'ms');
  writeFileSync('/tmp/rk/' + (name.startsWith('P') ? 'plain' : 'mixed') + '.pdf', buf);
  const doc = await getDocument({ data: new Uint8Array(buf) }).promise;
  for (let i = 1; i <= doc.numPages; i++) { const c = await (await doc.getPage(i)).getTextContent(); console.log(i, c.items.map((x: any) => x.str).join('|')); }
}
