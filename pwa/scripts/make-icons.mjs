// Writes Herald's app icons as real PNG files into pwa/public/icons/ (run: node pwa/scripts/make-icons.mjs).
// No image library: a solid background, a white "H" and an amber alert dot (the badge: the mark alone), rasterised with 4×4
// supersampling and written as an RGBA PNG through zlib. The output is committed; re-run only to change it.
import { deflateSync } from 'node:zlib';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OUT = fileURLToPath(new URL('../public/icons/', import.meta.url));
const BG = [0x1e, 0x3a, 0x8a]; // theme colour #1e3a8a
const FG = [0xff, 0xff, 0xff];
const DOT = [0xf5, 0x9e, 0x0b];

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * `mark` is the fraction of the icon the mark spans: maskable icons keep it inside the 80 % safe circle.
 * `radius` rounds the background corners (0 for full-bleed maskable icons).
 */
function draw(size, { mark, radius, badge = false }) {
  const buf = Buffer.alloc(size * size * 4);
  const m = mark; // mark box: centred square of side m (in unit coordinates)
  const x0 = (1 - m) / 2, y0 = (1 - m) / 2;
  const bar = m * 0.2;
  const inH = (u, v) => {
    const x = (u - x0) / m, y = (v - y0) / m;
    if (x < 0 || x > 1 || y < 0.08 || y > 1) return false;
    if (x < bar / m) return true; // left stem
    if (x > 0.62 - bar / m && x < 0.62) return true; // right stem (leaves room for the dot)
    if (y > 0.47 && y < 0.47 + bar / m && x < 0.62) return true; // cross bar
    return false;
  };
  const dotC = [x0 + m * 0.86, y0 + m * 0.14], dotR = m * 0.14;
  const inDot = (u, v) => (u - dotC[0]) ** 2 + (v - dotC[1]) ** 2 <= dotR ** 2;
  const inBg = (u, v) => {
    if (!radius) return true;
    const cx = Math.min(Math.max(u, radius), 1 - radius), cy = Math.min(Math.max(v, radius), 1 - radius);
    return (u - cx) ** 2 + (v - cy) ** 2 <= radius ** 2;
  };
  const S = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const u = (x + (sx + 0.5) / S) / size, v = (y + (sy + 0.5) / S) / size;
          if (!inBg(u, v)) continue;
          // A notification badge is a mask: only the mark is opaque (Android draws it in one colour).
          if (badge && !inDot(u, v) && !inH(u, v)) continue;
          const c = inDot(u, v) ? DOT : inH(u, v) ? FG : BG;
          r += c[0]; g += c[1]; b += c[2]; a += 255;
        }
      }
      const n = S * S, i = (y * size + x) * 4;
      const cov = a / 255; // premultiplied sum → straight alpha
      buf[i] = cov ? Math.round(r / cov) : 0;
      buf[i + 1] = cov ? Math.round(g / cov) : 0;
      buf[i + 2] = cov ? Math.round(b / cov) : 0;
      buf[i + 3] = Math.round(a / n);
    }
  }
  return png(size, buf);
}

mkdirSync(OUT, { recursive: true });
const files = {
  'icon-192.png': draw(192, { mark: 0.56, radius: 0.18 }),
  'icon-512.png': draw(512, { mark: 0.56, radius: 0.18 }),
  'maskable-512.png': draw(512, { mark: 0.42, radius: 0 }),
  'apple-touch-icon-180.png': draw(180, { mark: 0.56, radius: 0 }),
  'favicon-32.png': draw(32, { mark: 0.7, radius: 0.18 }),
  'badge-96.png': draw(96, { mark: 0.8, radius: 0, badge: true }),
};
for (const [name, data] of Object.entries(files)) {
  writeFileSync(OUT + name, data);
  console.log(`${name}  ${data.length} bytes`);
}
