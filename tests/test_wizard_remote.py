"""The wizard names the remote host it works on (a real OpenSSH server, ``tests.fixtures_ssh``)
and says that TLS, HTTP and DTLS checks run from this machine; on this machine it draws nothing
of that (the snapshots stay as they were)."""

from __future__ import annotations

import pytest

from app.config.settings import Config, save_config
from app.engine.runner import Engine
from app.engine.state import StateStore
from screens.main import MainScreen
from screens.welcome import WelcomeScreen
from tests.fixtures_ssh import ADMIN, RANCHER
from tests.wizard_support import drive, shown, wizard_engine


def run(engine, check) -> None:
    async def scenario(app, pilot):
        check(app)

    drive(engine, scenario)


def remote(ssh_server, tmp_path, settings: bool = True, user: str | None = None) -> Engine:
    path = tmp_path / "remote.toml"
    if settings:
        save_config(Config(), path)
    host = ssh_server.host(user=user)
    host.connect()  # as the command line does before it opens the wizard
    return Engine(host, Config(path=path, exists=settings), StateStore(tmp_path / "remote-state"))


@pytest.mark.docker
@pytest.mark.parametrize("user, target, acting", [
    (None, "ssh://hardstep-remote", "as root"),
    (RANCHER, f"ssh://{RANCHER}@hardstep-remote", f"as {RANCHER}, root through sudo"),
    (ADMIN, f"ssh://{ADMIN}@hardstep-remote", f"as {ADMIN}, without root: sudo asks for a password, so files "
     "only root may change will be refused")])
def test_main_screen_names_the_host_who_hardstep_is_there_and_the_outside_view(ssh_server, tmp_path, user, target,
                                                                                acting):
    def check(app):
        assert isinstance(app.screen, MainScreen)
        line = " ".join(shown(app, "#host-line").split())
        assert line.startswith(f"Working on {target} over SSH {acting}. TLS, HTTP and DTLS checks run "
                               "from the machine hardstep runs on (the outside view)")

    run(remote(ssh_server, tmp_path, user=user), check)


@pytest.mark.docker
def test_first_run_on_a_remote_host_names_it_too(ssh_server, tmp_path):
    def check(app):
        assert isinstance(app.screen, WelcomeScreen)
        assert "ssh://hardstep-remote" in shown(app, "#host-line")

    run(remote(ssh_server, tmp_path, settings=False), check)


def test_on_this_machine_no_host_line(tmp_path):
    found = []
    run(wizard_engine(tmp_path), lambda app: found.append((type(app.screen), len(app.screen.query("#host-line")))))
    assert found == [(MainScreen, 0)]
