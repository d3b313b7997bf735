"""Reading a container's answers (app.containers.commands) on the real engine: files through the
archive API, commands asked again when their answer is lost, scripts whose lost or cut answer is
told apart from a quiet one. Docker drops an exec's output now and then (moby#27289); that race
cannot be started on purpose, so the wrapper's reading of a cut answer is tested on the answer
itself, and everything else on real containers."""

from __future__ import annotations

import pytest

from app.containers.commands import LOST, Answer, ask, ask_shell, read_file, read_text, run_shell, unwrap

pytestmark = pytest.mark.docker

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


@pytest.fixture
def box(docker_client, images, unique):
    """A running busybox container with a volume at /data and a read-only root filesystem."""
    container = docker_client.containers.run(images["busybox"], SLEEPER, name=unique("box"), detach=True,
                                             volumes=["/data"], read_only=True, tmpfs={"/tmp": ""})
    yield container
    container.remove(force=True)


def test_files_are_read_through_the_archive_api_with_symlinks_followed(box):
    assert run_shell(box, "printf 'one\\ntwo' > /data/file; ln -s file /data/near; ln -s /data/file /data/far; "
                          "ln -s nowhere /data/dangling; mkdir /data/folder").ok
    assert read_file(box, "/data/file") == b"one\ntwo"  # no newline added or lost
    assert read_file(box, "/data/near") == read_file(box, "/data/far") == b"one\ntwo"
    assert read_text(box, "/data/file") == "one\ntwo"
    for absent in ("/data/missing", "/data/dangling", "/data/folder"):
        assert read_file(box, absent) is None, absent
    # tmpfs mounts are not in the container's filesystem for the archive API (nor for docker cp).
    assert run_shell(box, "echo x > /tmp/on-tmpfs").ok and read_file(box, "/tmp/on-tmpfs") is None


def test_a_command_that_answered_nothing_is_asked_again(box):
    # Prints nothing the first time, then its answer: what a lost output looks like to the caller.
    once = "test -e /tmp/asked && echo second || touch /tmp/asked"
    assert ask(box, ["sh", "-c", once]) == Answer(0, "second\n")
    # A command that never prints is asked three times, then its empty answer stands.
    assert ask(box, ["sh", "-c", "echo x >> /data/count"]) == Answer(0, "")
    assert read_file(box, "/data/count") == b"x\nx\nx\n"
    # An answer, even a failure's, is taken at once.
    assert ask(box, ["cat", "/data/missing"]).code == 1
    assert ask(box, ["no-such-program"]).code in (126, 127)


def test_a_script_keeps_its_own_exit_code_output_traps_and_environment(box):
    assert ask_shell(box, "echo hi; exit 3") == Answer(3, "hi\n")
    assert ask_shell(box, "printf 'no newline'") == Answer(0, "no newline")
    assert ask_shell(box, "trap 'echo trapped' EXIT; echo first") == Answer(0, "first\ntrapped\n")
    assert ask_shell(box, "exit 0") == Answer(0, "")
    assert ask_shell(box, 'echo "$GREETING"', environment={"GREETING": "hello"}) == Answer(0, "hello\n")
    # The script cannot end the wrapper early: the marker line still comes after its exit.
    assert ask_shell(box, "echo before; exit 0; echo after") == Answer(0, "before\n")


def test_a_container_without_a_shell_says_so_instead_of_an_answer_lost(docker_client, images, unique):
    container = docker_client.containers.run(images["busybox"], SLEEPER, name=unique("shellless"), detach=True)
    try:
        assert container.exec_run(["rm", "/bin/sh"]).exit_code == 0  # once: ask() is for reading
        answer = ask_shell(container, "echo hi")
        assert answer.code in (126, 127) and "not found" in answer.output and answer.output != LOST
    finally:
        container.remove(force=True)


def test_a_stopped_container_cannot_answer(box):
    box.stop(timeout=1)
    assert ask(box, ["cat", "/etc/passwd"]).code is None
    assert ask_shell(box, "echo hi").code is None
    assert read_file(box, "/etc/passwd").startswith(b"root:")  # the archive API reads a stopped container too


def test_a_cut_answer_is_lost_and_a_whole_one_is_kept():
    mark = "hardstep-exit-0123456789ab:"
    assert unwrap(Answer(0, f"out\n\n{mark}4\n"), mark) == Answer(4, "out\n")
    assert unwrap(Answer(0, f"\n{mark}0\n"), mark) == Answer(0, "")
    # The wrapper ended well, yet its last line never came: the answer was dropped or cut.
    assert unwrap(Answer(0, ""), mark) == Answer(None, LOST)
    assert unwrap(Answer(0, "out\n\nhardstep-exit-01"), mark) == Answer(None, LOST)
    # The wrapper itself could not run or was killed: its own answer stands.
    assert unwrap(Answer(127, "sh: not found"), mark) == Answer(127, "sh: not found")
    assert unwrap(Answer(137, ""), mark) == Answer(137, "")
