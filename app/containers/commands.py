"""Commands run inside a container, and answers read from it that can be trusted.

docker-py's ``exec_run`` loses a command's output whenever it arrives together with the HTTP
answer's headers: it reads the raw socket under the buffered reader that parsed those headers,
and what that reader took in is gone (docker/docker-py#3332, open; #425). That happens when the
calling thread is slow to read, which is the wizard (its workers and its screen share the GIL)
and a check of many hosts at once: a short command with 4 busy threads beside it lost its
output 88 times in 200 here, and CI saw a ``cat`` of a one-line file print nothing. The exit
code still arrives. A check that reads "no output" as "nothing there" passes or fails wrongly,
and an edit built on it (a crontab read back empty) drops the user's own lines. So:

- every exec here reads its frames through that buffered reader (``_exec``: 0 lost in the same
  200), the way docker-py would if it were fixed;
- should an answer still go missing on the way (another client, a proxy), a command that
  *reads* something and always prints is asked again when nothing came back (``ask``), and a
  shell script ends with a marker line only the caller knows, so a lost or cut-off answer is told
  apart from a quiet one: ``ask_shell`` (safe to run again: read-only, or idempotent) asks again;
  ``run_shell`` runs once and keeps the script's exit code, with ``LOST`` for its words;
- files are read with the archive API (``read_file``), which needs no exec at all.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import secrets
import tarfile
import time
from typing import Any, Iterator, NamedTuple

ATTEMPTS = 3
LOST = "the container's answer was lost on the way (the command's output did not arrive)"


class Answer(NamedTuple):
    code: int | None  # None: the command could not run (or, from ask_shell, its answer never came)
    output: str  # LOST when the words never came back

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def lost(self) -> bool:
        return self.output == LOST


def _exec(container, argv: list[str], environment: dict[str, str] | None) -> Answer:
    """``exec_run``, with the output read through the HTTP answer's buffered reader (see above)."""
    from docker.errors import APIError

    api = container.client.api
    try:
        exec_id = api.exec_create(container.id, argv, stdout=True, stderr=True, environment=environment)["Id"]
        with attached(container, exec_id) as reader:
            output = b"".join(frames(reader))
        code = api.exec_inspect(exec_id).get("ExitCode")
    except APIError as exc:
        return Answer(None, str(exc.explanation or exc))
    return Answer(code, output.decode("utf-8", "replace"))


@contextlib.contextmanager
def attached(container, exec_id: str) -> Iterator[Any]:
    """Start the exec ``exec_id`` attached, as docker-py's ``exec_start`` does, and give the
    reader of its stream: the buffered reader that holds whatever came in with the headers.
    Leaving closes the connection (an exec made with stdin then sees its end)."""
    api = container.client.api
    response = api._post_json(api._url("/exec/{0}/start", exec_id), data={"Tty": False, "Detach": False},
                              headers={"Connection": "Upgrade", "Upgrade": "tcp"}, stream=True)
    reader = None
    try:
        api._raise_for_status(response)
        reader = response.raw._fp.fp
        yield reader
    finally:
        response.close()
        raw_socket = getattr(getattr(reader, "raw", None), "_sock", None)
        if raw_socket is not None:
            raw_socket.close()


def frames(reader) -> Iterator[bytes]:
    """The data of each frame of Docker's multiplexed stream (an 8-byte header: stream, size)
    until the engine closes it."""
    while len(header := reader.read(8)) == 8:
        size = int.from_bytes(header[4:], "big")
        data = reader.read(size)
        if data:
            yield data
        if len(data) < size:
            return


def read_until(reader, marker: str, timeout: float) -> str:
    """The stream's words until ``marker`` is in them, the engine ends it, or ``timeout`` passes
    (for a command that keeps running: a server that says when it listens)."""
    raw_socket = getattr(getattr(reader, "raw", None), "_sock", None)
    deadline = time.monotonic() + timeout
    words = ""
    while marker not in words and (left := deadline - time.monotonic()) > 0:
        if raw_socket is not None:
            raw_socket.settimeout(left)
        try:
            chunk = next(frames(reader), None)
        except OSError:  # the time is up (socket.timeout)
            break
        if chunk is None:
            break
        words += chunk.decode("utf-8", "replace")
    return words


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
    # The script runs in its own ``sh`` so its ``exit`` and traps end it, not the marker line;
    # the wrapper leaves with the script's code, which arrives even when the words do not.
    argv = ["sh", "-c", 'sh -c "$1"; rc=$?; printf "\\n%s%s\\n" "$2" "$rc"; exit "$rc"', "sh", script, mark]
    return unwrap(_exec(container, argv, environment), mark)


def unwrap(answer: Answer, mark: str) -> Answer:
    """The script's own answer out of the wrapper's: its words before the marker line, or
    ``LOST`` when that line never arrived (the exit code is the engine's, so it stays)."""
    head, found, tail = answer.output.rpartition(mark)
    if found and tail.strip().isdigit():
        return Answer(int(tail.strip()), head[:-1] if head.endswith("\n") else head)
    if answer.code is None or (answer.code in (126, 127) and answer.output.strip()):
        return answer  # the engine refused, or there is no shell to run it: said as it came
    return Answer(answer.code, LOST)


def ask_shell(container, script: str, *, environment: dict[str, str] | None = None,
              attempts: int = ATTEMPTS) -> Answer:
    """Run ``sh -c script``, safe to run again (read-only, or idempotent), asked again while its
    answer is lost; code None when it never came back (or the container has no shell)."""
    answer = _shell(container, script, environment)
    for _ in range(attempts - 1):
        if not answer.lost:
            break
        answer = _shell(container, script, environment)
    return Answer(None, LOST) if answer.lost else answer


def run_shell(container, script: str, *, environment: dict[str, str] | None = None) -> Answer:
    """Run ``sh -c script`` that changes something, once: its exit code, and its words or
    ``LOST`` when they never came back, so the caller says so instead of guessing."""
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
