"""Secrets never leave hardstep: every diff, plan, log line, audit entry, state file, report and
error passes through here.

Structure first where hardstep has it (``structure``: parsed documents, a container's
environment, arguments and labels, the state and audit data), text as the last line of defence
(``text``); both share which keys hold secrets (``names``, with the manuals each name comes
from) and every secret value met so far (``known``)."""

from app.redact.names import REDACTED
from app.redact.structure import redact_argv, redact_tree, redact_value, remember_secrets
from app.redact.text import redact

__all__ = ["REDACTED", "redact", "redact_argv", "redact_tree", "redact_value", "remember_secrets"]
