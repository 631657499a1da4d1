"""Short codes people read aloud: reference codes for what they sent, access codes for walks.

The alphabet leaves out 0/O and 1/I so a code survives being read over the phone or copied from a
whiteboard at a meeting point.
"""

import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_reference() -> str:
    """A receipt for something a person sent (a concern, a walk stop): XXXX-XXXX."""
    body = new_code(8)
    return f"{body[:4]}-{body[4:]}"


def new_access_code() -> str:
    """The code a safety walk's participants type to add stops to that walk: 8 characters
    (32⁸ ≈ 10¹² codes, and entry is rate-limited)."""
    return new_code(8)
