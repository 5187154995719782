"""Unified social credit code (统一社会信用代码), GB 32100-2015.

Eighteen characters from a 31-symbol alphabet (digits and capitals without I, O, Z, S, V); the
last one is a check character over the first seventeen with weights 3^i mod 31.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# The shape of a normalised code, for API documents (the check character needs validate()).
PATTERN = f"^[{ALPHABET}]{{18}}$"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


class USCCError(ValueError):
    """Why a code is not a valid unified social credit code; ``code`` is the i18n message key."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize(code: str) -> str:
    return code.strip().upper()


def validate(code: str) -> str:
    """Return the normalised code, or raise :class:`USCCError` saying what is wrong."""
    text = normalize(code)
    if len(text) != 18:
        raise USCCError("uscc.length", f"a unified social credit code has 18 characters, not {len(text)}")
    bad = sorted({c for c in text if c not in _VALUE})
    if bad:
        raise USCCError(
            "uscc.charset", f"characters not allowed in a unified social credit code: {''.join(bad)}"
        )
    expected = check_character(text[:17])
    if text[17] != expected:
        raise USCCError(
            "uscc.check",
            f"check character is {text[17]}, but the code's first 17 characters require {expected}",
        )
    return text


def make(first17: str) -> str:
    """Complete a 17-character prefix with its check character (used by the demo generator)."""
    prefix = normalize(first17)
    if len(prefix) != 17 or any(c not in _VALUE for c in prefix):
        raise USCCError("uscc.prefix", "a prefix must be 17 characters from the code alphabet")
    return prefix + check_character(prefix)
