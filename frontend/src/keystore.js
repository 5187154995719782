// The bidder's keys in the browser: the opening key (X25519 age identity) and the signing key
// (Ed25519).  Kept in IndexedDB as non-extractable WebCrypto keys; the raw secrets exist only
// while a new pair is backed up or a backup is restored.  The backup is the command-line
// client's format (bidding/client/backup.py): an age passphrase (scrypt) file holding
// {"format": "tenderhall.org/bidder-keys/v1", "opening": "AGE-SECRET-KEY-1...", "signing": seed}.
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { ed25519 } from "@noble/curves/ed25519.js";
import canonicalize from "canonicalize";
import { identityBytes } from "./keys.js";
import { open, seal } from "./envelope.js";

export const BACKUP_FORMAT = "tenderhall.org/bidder-keys/v1";
const MAX_BACKUP_SIZE = 4096;
const DB_NAME = "tenderhall-keys";
const STORE = "keys";
// PKCS #8 wrappers of a raw 32-byte X25519 / Ed25519 private key (RFC 8410).
const PKCS8_X25519 = Uint8Array.from([48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, 110, 4, 34, 4, 32]);
const PKCS8_ED25519 = Uint8Array.from([48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, 112, 4, 34, 4, 32]);

function pkcs8(prefix, raw) {
  const out = new Uint8Array(prefix.length + raw.length);
  out.set(prefix);
  out.set(raw, prefix.length);
  return out;
}

/** A new key pair's secrets: {opening: "AGE-SECRET-KEY-1...", signing: 32-byte seed}. */
export async function generateSecrets() {
  return { opening: await generateX25519Identity(), signing: crypto.getRandomValues(new Uint8Array(32)) };
}

/** The public halves the platform registers: the age recipient and the base64 Ed25519 key. */
export async function publicHalves(secrets) {
  return {
    opening: await identityToRecipient(secrets.opening),
    signing: ed25519.getPublicKey(secrets.signing).toBase64(),
  };
}

/** The passphrase-protected backup (bytes of an age file). */
export async function backup(secrets, passphrase, logN = 18) {
  if (typeof passphrase !== "string" || passphrase.length === 0) throw new Error("the passphrase is empty");
  const plain = JSON.stringify({ format: BACKUP_FORMAT, opening: secrets.opening, signing: secrets.signing.toBase64() });
  const encrypter = new Encrypter();
  encrypter.setScryptWorkFactor(logN);
  encrypter.setPassphrase(passphrase);
  return encrypter.encrypt(plain);
}

/** The secrets in a backup; throws with what went wrong (size, passphrase, format). */
export async function restore(file, passphrase) {
  if (file.length > MAX_BACKUP_SIZE) throw new Error(`a key backup is at most ${MAX_BACKUP_SIZE} bytes`);
  const decrypter = new Decrypter();
  decrypter.addPassphrase(passphrase);
  let fields;
  try {
    fields = JSON.parse(await decrypter.decrypt(file, "text"));
  } catch (error) {
    throw new Error(`the backup does not open with this passphrase: ${error.message}`);
  }
  if (fields === null || fields.format !== BACKUP_FORMAT) throw new Error(`not a ${BACKUP_FORMAT} backup`);
  identityBytes(fields.opening);
  const signing = Uint8Array.fromBase64(fields.signing);
  if (signing.length !== 32) throw new Error("the signing key in the backup is not 32 bytes");
  return { opening: fields.opening, signing };
}

/** Non-extractable WebCrypto keys and the public halves, as IndexedDB keeps them. */
export async function toCryptoKeys(secrets) {
  const opening = await crypto.subtle.importKey(
    "pkcs8", pkcs8(PKCS8_X25519, identityBytes(secrets.opening)), { name: "X25519" }, false, ["deriveBits"]);
  const signing = await crypto.subtle.importKey(
    "pkcs8", pkcs8(PKCS8_ED25519, secrets.signing), { name: "Ed25519" }, false, ["sign"]);
  return { opening, signing, public: await publicHalves(secrets) };
}

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function transact(mode, act) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** Keep `keys` (from toCryptoKeys) for `account` (the signed-in user's id) in IndexedDB. */
export async function store(account, keys) {
  await transact("readwrite", (s) => s.put(keys, account));
}

/** The keys kept for `account`, or null. */
export async function load(account) {
  return (await transact("readonly", (s) => s.get(account))) ?? null;
}

/** Proof that these keys open what is sealed to them: seal random bytes to the public half and
 * open them with the non-extractable key. */
export async function selfTest(keys) {
  const probe = crypto.getRandomValues(new Uint8Array(1000));
  const sealed = await seal(probe, { tender: "self-test", remedy: null }, "self-test", keys.public.opening);
  const opened = new Uint8Array(await new Response(await open(sealed, keys.opening)).arrayBuffer());
  return opened.length === probe.length && opened.every((byte, i) => byte === probe[i]);
}

/** Ed25519 over the RFC 8785 canonical JSON of `statement` (bidding/signing.py), base64. */
export async function sign(keys, statement) {
  const message = new TextEncoder().encode(canonicalize(statement));
  return new Uint8Array(await crypto.subtle.sign("Ed25519", keys.signing, message)).toBase64();
}

/** The body of POST /api/v1/bidding/keys for `company` (its id): the public halves and the
 * proof of possession of the signing key (as `tenderhall bid register` sends). */
export async function registration(keys, company) {
  const statement = {
    purpose: "tenderhall.org/bidder-key/v1",
    company,
    opening: keys.public.opening,
    signing: keys.public.signing,
  };
  return { opening: keys.public.opening, signing: keys.public.signing, proof: await sign(keys, statement) };
}
