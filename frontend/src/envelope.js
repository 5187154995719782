// The bid envelope in the browser (docs/envelope.md): an age v1 file with the bidder's X25519
// stanza and, when the tender has a custodian remedy, its n share stanzas; byte-compatible with
// bidding/envelope/ (tests/frontend/ prove it both ways).  Inputs and outputs are streams, so a
// document of hundreds of MB is sealed chunk by chunk (64 KiB STREAM chunks), never held whole.
import { Decrypter, Encrypter } from "age-encryption";
import {
  SHARE_STANZA_TYPE,
  checkId,
  combineShares,
  custodianRecipient,
  openShare,
  parseShareStanza,
} from "./shares.js";
import { recipientBytes } from "./keys.js";

export { identityToRecipient, generateX25519Identity } from "age-encryption";
export { combineShares, shareInfo, splitShares } from "./shares.js";

const FILE_KEY_SIZE = 16;

function asStream(input) {
  if (input instanceof ReadableStream) return input;
  if (input instanceof Blob) return input.stream();
  if (input instanceof Uint8Array) return new Blob([input]).stream();
  throw new Error("the input must be a ReadableStream, a Blob (File) or a Uint8Array");
}

/** Seal `input` as the tender's sealing answer (`GET /api/v1/bidding/tenders/{id}/sealing`) asks:
 * to the bidder's `recipient` (age1...) and, if `sealing.remedy`, to the custodians' k-of-n
 * shares bound to `sealing.tender` and `bid`.  Returns a ReadableStream of the envelope with a
 * `size(plaintextSize)` method giving the envelope's length. */
export async function seal(input, sealing, bid, recipient) {
  recipientBytes(recipient); // a clear error before anything is read
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  if (sealing.remedy) encrypter.addRecipient(custodianRecipient(sealing.tender, bid, sealing.remedy));
  else checkId("bid id", bid);
  return encrypter.encrypt(asStream(input));
}

function decrypterFor(identity) {
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity); // AGE-SECRET-KEY-1... or a non-extractable X25519 CryptoKey
  return decrypter;
}

/** Open an envelope with the bidder's identity: a ReadableStream of the plaintext (each chunk
 * released only once authenticated; a failure errors the stream and the output must be dropped). */
export async function open(input, identity) {
  return decrypterFor(identity).decrypt(asStream(input));
}

/** The 16-byte file key from the envelope's header (or the whole envelope), unwrapped with the
 * bidder's identity and checked against the header MAC: what the opening hall sends. */
export async function unwrapFileKey(header, identity) {
  return decrypterFor(identity).decryptHeader(header);
}

/** The header's stanzas, read through typage's own strict parser (an Identity sees them all). */
export async function stanzas(header) {
  let seen = null;
  const decrypter = new Decrypter();
  decrypter.addIdentity({
    unwrapFileKey(all) {
      seen = all;
      return null;
    },
  });
  try {
    await decrypter.decryptHeader(header);
  } catch (error) {
    if (seen === null) throw error; // the header did not parse
  }
  return seen;
}

/** A custodian's share of this bid: [index, value], opened with the custodian's identity. */
export async function custodianShare(header, tender, bid, custodianId, identity) {
  const mine = (await stanzas(header))
    .filter((s) => s.args[0] === SHARE_STANZA_TYPE && s.args[1] === custodianId)
    .map(parseShareStanza);
  if (mine.length !== 1) throw new Error(`the envelope has no single share for custodian ${custodianId}`);
  return openShare(mine[0], tender, bid, identity);
}

function* subsets(items, k, start = 0, prefix = []) {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i <= items.length - (k - prefix.length); i++) {
    yield* subsets(items, k, i + 1, [...prefix, items[i]]);
  }
}

/** The file key from released shares ([index, value]), accepted only if it authenticates the
 * header (its MAC), trying k-subsets (at most `maxAttempts`) when some shares are bad. */
export async function recoverFileKey(header, shares, k, maxAttempts = 100000) {
  if (shares.length < k) throw new Error(`${shares.length} shares released, ${k} needed`);
  let attempts = 0;
  for (const subset of subsets(shares, k)) {
    if (++attempts > maxAttempts) break;
    const candidate = await combineShares(subset);
    if (candidate.length !== FILE_KEY_SIZE) continue;
    const decrypter = new Decrypter();
    decrypter.addIdentity({ unwrapFileKey: () => candidate });
    try {
      return await decrypter.decryptHeader(header);
    } catch {
      // wrong candidate: its MAC does not verify; try the next subset
    }
  }
  throw new Error("no k of the released shares authenticate the header");
}
