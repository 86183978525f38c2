"""Join codes: six characters from an alphabet without look-alikes, read back forgivingly."""

import secrets

# No 0/O/Q/D, 1/I/L, 2/Z, 5/S, 8/B, U/V: a code read off a projector is typed right the first time.
ALPHABET = "ACEFGHJKMNPRTWXY34679"
LENGTH = 6  # 21**6 = 85 million codes: with a slow failure and a rate limit, guessing is pointless


def new_code(taken: set[str] | dict[str, object]) -> str:
    """A random code not in `taken`."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if code not in taken:
            return code


def normalize(text: str) -> str | None:
    """The code a person meant (case and spaces or dashes ignored), or None if it cannot be one."""
    code = "".join(ch for ch in text.upper() if ch not in " -")
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code
