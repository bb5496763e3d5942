// A local web push service (RFC 8030) over HTTPS with a self-signed certificate, standing in for FCM /
// Mozilla autopush / Apple. It creates browser-like subscriptions (a P-256 key pair and an auth secret, as
// PushManager.subscribe would), checks each push's VAPID JWT (RFC 8292: ES256 over the `k` key, audience =
// this origin, expiry within 24 h) and decrypts the aes128gcm payload (RFC 8291 / RFC 8188) with the
// subscription's private key, exactly as a browser does — so a test sees what the service worker would get.
import { createServer, type Server } from 'node:https';
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH } from 'node:crypto';
import { selfSignedCert } from './tls';

export interface FakeSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  ecdh: ECDH;
  authSecret: Buffer;
}

export interface ReceivedPush {
  subscription: string;
  headers: Record<string, string | undefined>;
  /** The VAPID claims and the application server key that signed them. */
  vapid: { claims: { aud: string; exp: number; sub: string }; key: string };
  /** The decrypted payload, parsed as JSON. */
  payload: any;
  at: number;
}

export interface PushFake {
  url: string;
  /** The certificate to trust (PEM). */
  ca: string;
  subscribe(): FakeSubscription;
  received: ReceivedPush[];
  /** Pushes refused (bad VAPID, undecryptable payload) with the reason. */
  rejected: Array<{ subscription: string; reason: string }>;
  /** Answer this status instead of 201 for a subscription (e.g. 410 Gone). */
  answer: Map<string, number>;
  close(): Promise<void>;
}

/** RFC 8291 §3.4 + RFC 8188 §2: decrypts one aes128gcm body for the holder of `ecdh` and `authSecret`. */
export function decryptAes128gcm(body: Buffer, ecdh: ECDH, authSecret: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  if (idlen !== 65 || rs < 18) throw new Error(`unexpected header: idlen ${idlen}, rs ${rs}`);
  const uaPublic = ecdh.getPublicKey();
  const ecdhSecret = ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonceBase = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const out: Buffer[] = [];
  for (let i = 0, seqNo = 0; i < records.length; i += rs, seqNo++) {
    const record = records.subarray(i, Math.min(i + rs, records.length));
    const nonce = Buffer.from(nonceBase);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seqNo) >>> 0, 8); // the record sequence number XORs the low bytes
    const d = createDecipheriv('aes-128-gcm', cek, nonce);
    d.setAuthTag(record.subarray(record.length - 16));
    const plain = Buffer.concat([d.update(record.subarray(0, record.length - 16)), d.final()]);
    // Padding: the content, one delimiter (2 = last record, 1 = more follow), then zeros.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0 || (plain[end] !== 2 && plain[end] !== 1)) throw new Error('bad padding delimiter');
    out.push(plain.subarray(0, end));
  }
  return Buffer.concat(out);
}

function verifyVapid(authorization: string | undefined, origin: string): ReceivedPush['vapid'] {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) throw new Error(`Authorization is not "vapid t=…, k=…": ${authorization}`);
  const [, jwt, k] = m;
  const [h, c, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  if (header.alg !== 'ES256') throw new Error(`JWT alg ${header.alg}`);
  const raw = Buffer.from(k, 'base64url');
  const key = createPublicKey({ format: 'jwk', key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') } });
  if (!verify('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) throw new Error('VAPID signature does not verify');
  const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
  if (claims.aud !== origin) throw new Error(`aud ${claims.aud} is not ${origin}`);
  const now = Date.now() / 1000;
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600 + 60)) throw new Error(`exp ${claims.exp} out of range`);
  if (!/^(mailto:|https:)/.test(claims.sub ?? '')) throw new Error(`sub ${claims.sub}`);
  return { claims, key: k };
}

export async function startPushFake(): Promise<PushFake> {
  const tls = selfSignedCert('Herald fake push service');
  const subs = new Map<string, FakeSubscription>();
  const fake: PushFake = {
    url: '',
    ca: tls.cert,
    received: [],
    rejected: [],
    answer: new Map(),
    subscribe() {
      const id = randomBytes(8).toString('hex');
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const authSecret = randomBytes(16);
      const s: FakeSubscription = {
        id, endpoint: `${fake.url}/push/${id}`, ecdh, authSecret,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') },
      };
      subs.set(id, s);
      return s;
    },
    close: async () => {},
  };
  const srv: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = /^\/push\/([0-9a-f]+)$/.exec(req.url ?? '')?.[1] ?? '';
      const s = subs.get(id);
      if (req.method !== 'POST' || !s) {
        res.writeHead(404).end();
        return;
      }
      const forced = fake.answer.get(id);
      if (forced) {
        res.writeHead(forced).end();
        return;
      }
      try {
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`Content-Encoding ${req.headers['content-encoding']}`);
        if (!req.headers.ttl) throw new Error('no TTL header');
        const vapid = verifyVapid(req.headers.authorization, fake.url);
        const plain = decryptAes128gcm(Buffer.concat(chunks), s.ecdh, s.authSecret);
        fake.received.push({
          subscription: id, vapid, payload: JSON.parse(plain.toString('utf8')), at: Date.now(),
          headers: { ttl: req.headers.ttl as string, urgency: req.headers.urgency as string | undefined, topic: req.headers.topic as string | undefined },
        });
        res.writeHead(201, { Location: `${fake.url}/message/${randomBytes(6).toString('hex')}` }).end();
      } catch (e) {
        fake.rejected.push({ subscription: id, reason: (e as Error).message });
        res.writeHead(400).end((e as Error).message);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  fake.url = `https://127.0.0.1:${(srv.address() as { port: number }).port}`;
  fake.close = () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); });
  return fake;
}
