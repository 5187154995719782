// age's Bech32 key strings as raw X25519 bytes (the envelope's custodian keys are age recipients).
import { bech32 } from "@scure/base";

const KEY_SIZE = 32;

function decode(text, prefix, what) {
  let decoded;
  try {
    decoded = bech32.decodeToBytes(text);
  } catch (error) {
    throw new Error(`${what} is not valid Bech32: ${error.message}`);
  }
  if (decoded.prefix !== prefix || decoded.bytes.length !== KEY_SIZE) {
    throw new Error(`${what} must be a ${prefix} key of ${KEY_SIZE} bytes`);
  }
  return decoded.bytes;
}

/** `age1...` (lower case) -> the 32-byte X25519 public key. */
export function recipientBytes(recipient) {
  if (typeof recipient !== "string" || !recipient.startsWith("age1") || recipient !== recipient.toLowerCase()) {
    throw new Error("an age recipient is a lower-case age1... string");
  }
  return decode(recipient, "age", "age recipient");
}

/** `AGE-SECRET-KEY-1...` (upper case) -> the 32-byte X25519 private key. */
export function identityBytes(identity) {
  if (typeof identity !== "string" || !identity.startsWith("AGE-SECRET-KEY-1") || identity !== identity.toUpperCase()) {
    throw new Error("an age identity is an upper-case AGE-SECRET-KEY-1... string");
  }
  return decode(identity.toLowerCase(), "age-secret-key-", "age identity");
}
