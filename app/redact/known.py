"""Secret values hardstep has met, so a text that quotes one without its key (an engine error, a
container's last log line, a parser message) loses it too.

Every value a redaction rule takes out is remembered for the life of the process. Short values
made of letters only are not: a weak password such as ``synapse`` or ``postgres`` is also the name
of a container or an image, and replacing every occurrence would make hardstep's own output
unreadable; the key-based rules still take such a value out wherever its key is next to it.
"""

from __future__ import annotations

import re

from app.redact.names import REDACTED, harmless

_known: set[str] = set()
_pattern: list[re.Pattern] = []  # the compiled alternation of _known, built on first use


def remember(value: str) -> None:
    """Keep ``value`` (and its lines and words, as a folded YAML scalar splits them) as secret."""
    text = str(value)
    if REDACTED in text:  # already taken apart by a rule: its pieces are not the secret
        return
    parts = {text.strip(), *(line.strip() for line in text.splitlines()), *text.split()}
    new = {p for p in parts if _worth(p) and p not in _known}
    if new:
        _known.update(new)
        _pattern.clear()


def _worth(part: str) -> bool:
    if harmless(part) or "-----" in part:  # PEM armour is no secret
        return False
    return len(part) >= 10 or (len(part) >= 6 and not part.isalpha())


def scrub(text: str) -> str:
    """``text`` with every remembered secret replaced, longest first."""
    if not _known or not text:
        return text
    if not _pattern:
        _pattern.append(re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True))))
    return _pattern[0].sub(REDACTED, text)


def forget() -> None:
    """Start over with no remembered secrets (each test does: another test's secret may be a name
    this one prints)."""
    _known.clear()
    _pattern.clear()
