"""Commands run inside a container, and answers read from it that can be trusted.

Docker can drop the whole output of a short ``exec``: the command ends before its output stream
is copied (moby/moby#27289, docker/docker-py#2042, still open; this project's CI saw a ``cat``
of a file holding one line print nothing). A check that reads "no output" as "nothing there"
then passes or fails wrongly, and an edit built on it (a crontab read back empty) drops the
user's own lines. So:

- a command that *reads* something and always prints (its answer or its error) is asked again
  when nothing came back (``ask``);
- a shell script ends with a marker line only the caller knows, so a lost or cut-off answer is
  told apart from a quiet one (``ask_shell``; ``run_shell`` for scripts that change something:
  never repeated, a lost answer is said so);
- files are read with the archive API, which has no such race (``read_file``).
"""

from __future__ import annotations

import io
import posixpath
import secrets
import tarfile
from typing import NamedTuple

ATTEMPTS = 3
LOST = "the container's answer was lost (Docker dropped the command's output); run the check again"


class Answer(NamedTuple):
    code: int | None  # None: the command could not run, or its answer never came back
    output: str

    @property
    def ok(self) -> bool:
        return self.code == 0


def _exec(container, argv: list[str], environment: dict[str, str] | None) -> Answer:
    from docker.errors import APIError

    try:
        result = container.exec_run(argv, stdout=True, stderr=True, environment=environment)
    except APIError as exc:
        return Answer(None, str(exc.explanation or exc))
    return Answer(result.exit_code, (result.output or b"").decode("utf-8", "replace"))


def ask(container, argv: list[str], *, environment: dict[str, str] | None = None,
        attempts: int = ATTEMPTS) -> Answer:
    """Run a read-only ``argv`` that prints something whether it works or fails; an empty answer
    is taken as lost and asked again. After ``attempts`` empty answers the last one is returned
    (some commands do answer nothing: an empty crontab)."""
    answer = _exec(container, argv, environment)
    for _ in range(attempts - 1):
        if answer.output.strip() or answer.code is None:
            break
        answer = _exec(container, argv, environment)
    return answer


def _shell(container, script: str, environment: dict[str, str] | None) -> Answer:
    mark = f"hardstep-exit-{secrets.token_hex(6)}:"
    # The script runs in its own ``sh`` so its ``exit`` and traps end it, not the marker line.
    argv = ["sh", "-c", 'sh -c "$1"; printf "\\n%s%s\\n" "$2" "$?"', "sh", script, mark]
    return unwrap(_exec(container, argv, environment), mark)


def unwrap(answer: Answer, mark: str) -> Answer:
    """The script's own answer out of the wrapper's: its exit code from the marker line, or
    ``LOST`` when the wrapper ended well (exit 0) but its marker line never arrived."""
    head, found, tail = answer.output.rpartition(mark)
    if found and tail.strip().isdigit():
        return Answer(int(tail.strip()), head[:-1] if head.endswith("\n") else head)
    if answer.code == 0:
        return Answer(None, LOST)
    return answer  # no shell to run it (126, 127), or the engine refused: said as it came


def ask_shell(container, script: str, *, environment: dict[str, str] | None = None,
              attempts: int = ATTEMPTS) -> Answer:
    """Run a read-only ``sh -c script``, asked again while its answer is lost; code None when it
    never came back (or the container has no shell)."""
    answer = _shell(container, script, environment)
    for _ in range(attempts - 1):
        if answer.output != LOST:
            break
        answer = _shell(container, script, environment)
    return answer


def run_shell(container, script: str, *, environment: dict[str, str] | None = None) -> Answer:
    """Run ``sh -c script`` that changes something, once: code None with ``LOST`` when its
    answer never came back, so the caller says so instead of guessing."""
    return _shell(container, script, environment)


def read_file(container, path: str, *, hops: int = 8) -> bytes | None:
    """The bytes of the file at ``path`` in the container (symlinks followed), None when there
    is no such file: read with ``get_archive``, like ``docker cp``, which does not see tmpfs
    mounts (read those with ``ask``)."""
    from docker.errors import APIError, NotFound

    for _ in range(hops):
        try:
            stream, _stat = container.get_archive(path)
            data = b"".join(stream)
        except NotFound:
            return None
        except APIError:
            return None
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = next(iter(tar), None)
            if member is None:
                return None
            if member.issym():
                path = posixpath.normpath(posixpath.join(posixpath.dirname(path), member.linkname))
                continue
            if not member.isfile():
                return None
            extracted = tar.extractfile(member)
            return extracted.read() if extracted else None
    return None


def read_text(container, path: str) -> str | None:
    data = read_file(container, path)
    return None if data is None else data.decode("utf-8", "replace")
