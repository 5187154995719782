// Custodian share stanzas (docs/envelope.md, bidding/envelope/custodian.py): k-of-n Shamir shares
// of the file key over GF(2^8) (AES polynomial 0x11B) at x = 1..n, each HPKE-sealed to one
// custodian (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, base mode) with an
// `info` that binds tender, bid, custodian, index, k and n.
import { Stanza } from "age-encryption";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { combine } from "shamir-secret-sharing";
import { identityBytes, recipientBytes } from "./keys.js";

export const SHARE_STANZA_TYPE = "tenderhall.org/share";
const SHARE_INFO_LABEL = "tenderhall.org/share/v1";
const ID = /^[A-Za-z0-9._:-]{1,64}$/;
const NUMBER = /^[1-9][0-9]{0,2}$/;
const FILE_KEY_SIZE = 16;
const ENC_SIZE = 32;
const BODY_SIZE = ENC_SIZE + FILE_KEY_SIZE + 16;
const MAX_SHARES = 255;

const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});

export function checkId(kind, value) {
  if (typeof value !== "string" || !ID.test(value)) {
    throw new Error(`${kind} ${JSON.stringify(value)} must be 1-64 characters of A-Z a-z 0-9 . _ : -`);
  }
}

export function checkThreshold(k, n) {
  if (!Number.isInteger(n) || n < 2 || n > MAX_SHARES) {
    throw new Error(`number of custodians n must be 2..${MAX_SHARES}, got ${n}`);
  }
  if (!Number.isInteger(k) || k < 2 || k > n) {
    throw new Error(`threshold k must satisfy 2 <= k <= n (${n}), got ${k}`);
  }
}

/** The HPKE info: label || 0x00 || u16 len || tender || u16 len || bid || u16 len || custodian
 * || index || k || n (lengths big-endian; ids are ASCII, checked). */
export function shareInfo(tender, bid, custodianId, index, k, n) {
  const ids = [tender, bid, custodianId].map((text) => new TextEncoder().encode(text));
  const label = new TextEncoder().encode(SHARE_INFO_LABEL);
  const out = new Uint8Array(label.length + 1 + ids.reduce((sum, id) => sum + 2 + id.length, 0) + 3);
  const view = new DataView(out.buffer);
  out.set(label, 0);
  let at = label.length + 1; // then the 0x00 separator, already zero
  for (const id of ids) {
    view.setUint16(at, id.length);
    out.set(id, at + 2);
    at += 2 + id.length;
  }
  out.set([index, k, n], at);
  return out;
}

function point(x, y) {
  // shamir-secret-sharing's share layout: the y bytes, then the x coordinate.
  const share = new Uint8Array(y.length + 1);
  share.set(y);
  share[y.length] = x;
  return share;
}

/** Shares of `secret` at x = 1..n, any k of which recover it (the value at x = 0).
 *
 * The polynomial is fixed by its value at 0 (the secret) and uniformly random values at
 * x = 1..k-1 (a bijection with random coefficients); those values are shares 1..k-1.  Share i >= k
 * is p(i), computed with the library's audited Lagrange interpolation at 0 of the translated
 * polynomial q(x) = p(x + i) (addition is xor), whose points are (x xor i, p(x)). */
export async function splitShares(secret, k, n) {
  checkThreshold(k, n);
  const known = [[0, secret]];
  for (let x = 1; x < k; x++) known.push([x, crypto.getRandomValues(new Uint8Array(secret.length))]);
  const shares = known.slice(1).map(([x, y]) => [x, y]);
  for (let i = k; i <= n; i++) {
    shares.push([i, await combine(known.map(([x, y]) => point(x ^ i, y)))]);
  }
  return shares;
}

/** The file key from released shares ([index, value] pairs); needs k right ones, not checked here. */
export async function combineShares(shares) {
  return combine(shares.map(([x, y]) => point(x, y)));
}

/** An age Recipient (typage's interface) that wraps the file key into the tender's n custodian
 * stanzas, in the order of the sealing answer's `remedy.custodians`. */
export function custodianRecipient(tender, bid, remedy) {
  checkId("tender id", tender);
  checkId("bid id", bid);
  const custodians = remedy.custodians;
  const n = custodians.length;
  const k = remedy.k;
  checkThreshold(k, n);
  const ids = custodians.map((c) => c.id);
  ids.forEach((id) => checkId("custodian id", id));
  if (new Set(ids).size !== n) throw new Error("custodian ids must be unique");
  const keys = custodians.map((c) => recipientBytes(c.public_key));
  return {
    async wrapFileKey(fileKey) {
      const shares = await splitShares(fileKey, k, n);
      const stanzas = [];
      for (let i = 0; i < n; i++) {
        const [index, value] = shares[i];
        const recipientPublicKey = await suite.kem.deserializePublicKey(keys[i]);
        const info = shareInfo(tender, bid, ids[i], index, k, n);
        const { enc, ct } = await suite.seal({ recipientPublicKey, info }, value);
        const body = new Uint8Array(BODY_SIZE);
        body.set(new Uint8Array(enc), 0);
        body.set(new Uint8Array(ct), ENC_SIZE);
        stanzas.push(new Stanza([SHARE_STANZA_TYPE, ids[i], String(index), String(k), String(n)], body));
      }
      return stanzas;
    },
  };
}

function number(text, what) {
  if (!NUMBER.test(text) || Number(text) > MAX_SHARES) {
    throw new Error(`share stanza ${what} ${JSON.stringify(text)} is not a canonical number 1..${MAX_SHARES}`);
  }
  return Number(text);
}

/** A parsed share stanza's fields (same checks as parse_share_stanza). */
export function parseShareStanza(stanza) {
  const [type, ...args] = stanza.args;
  if (type !== SHARE_STANZA_TYPE) throw new Error(`not a share stanza: ${type}`);
  if (args.length !== 4) throw new Error(`share stanza needs 4 arguments, got ${args.length}`);
  const [custodianId, ...numbers] = args;
  checkId("share stanza custodian id", custodianId);
  const [index, k, n] = numbers.map((value, i) => number(value, ["index", "k", "n"][i]));
  if (!(k >= 2 && k <= n && index <= n)) throw new Error("share stanza needs 2 <= k <= n and index <= n");
  if (stanza.body.length !== BODY_SIZE) throw new Error(`share stanza body is ${stanza.body.length} bytes`);
  return { custodianId, index, k, n, sealed: stanza.body };
}

/** Open one custodian's share with its age identity; throws unless the stanza is bound to this
 * tender and bid and sealed to this key. */
export async function openShare(parsed, tender, bid, identity) {
  checkId("tender id", tender);
  checkId("bid id", bid);
  const recipientKey = await suite.kem.importKey("raw", identityBytes(identity).buffer, false);
  const info = shareInfo(tender, bid, parsed.custodianId, parsed.index, parsed.k, parsed.n);
  const enc = parsed.sealed.slice(0, ENC_SIZE);
  const ct = parsed.sealed.slice(ENC_SIZE);
  let value;
  try {
    value = await suite.open({ recipientKey, enc, info }, ct);
  } catch {
    throw new Error(`share of custodian ${parsed.custodianId} does not open for tender ${tender} bid ${bid}`);
  }
  return [parsed.index, new Uint8Array(value)];
}
