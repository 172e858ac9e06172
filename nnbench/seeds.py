"""Seeds derived by hashing the names a thing depends on: never from run order or global state."""

from __future__ import annotations

import hashlib


def derive_seed(*parts: object) -> int:
    """A 63-bit seed that depends only on `parts` (their repr), stable across runs and machines."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def stable_hash(*parts: object) -> str:
    """A 16-hex-digit key for the same `parts`."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()
