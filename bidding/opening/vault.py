"""Secrets kept at the opening (file keys, custodian shares, the document facts read), only ever
stored wrapped under a purpose key of the platform data key.
"""

from __future__ import annotations

import json
import os

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from bidding.docscan import DocumentFacts
from bidding.models import Bid
from tenderhall.keys import derive_key

DOCUMENT_FACTS = "document-facts"  # the wrap label of a bid's sealed DocumentFacts


class Vault:
    def __init__(self, data_key: bytes) -> None:
        self._wrap = ChaCha20Poly1305(derive_key(data_key, "bid-file-key"))

    def wrap(self, secret: bytes, bid: Bid, label: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._wrap.encrypt(nonce, secret, f"{label}:{bid.id}".encode())

    def unwrap(self, blob: bytes, bid: Bid, label: str) -> bytes:
        return self._wrap.decrypt(blob[:12], blob[12:], f"{label}:{bid.id}".encode())

    def documents(self, bid: Bid) -> DocumentFacts | None:
        """The document facts read at the opening (for the collusion detector), unsealed."""
        if bid.sealed_documents is None:
            return None
        return DocumentFacts.from_json(json.loads(self.unwrap(bid.sealed_documents, bid, DOCUMENT_FACTS)))
