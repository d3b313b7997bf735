"""The wizard names the remote host it works on and says once that TLS, HTTP and DTLS checks run
from this machine; on this machine it draws nothing of that (the snapshots stay as they were).

Stand-in until the SSH end-to-end test: a LocalHost marked remote, named as an SSH host names
itself (``Host.remote``, ``Host.label``), since the wizard reads nothing else of the host for it.
"""

from __future__ import annotations

import asyncio

from screens.main import MainScreen
from screens.welcome import WelcomeScreen
from tests.wizard_support import SIZE, quiet_app, settle, shown, wizard_engine


def run(engine, check) -> None:
    async def scenario():
        app = quiet_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            check(app)

    asyncio.run(scenario())


def remote(engine, label="admin@matrix.example.org"):
    engine.host.remote, engine.host.label = True, label
    return engine


def test_main_screen_names_the_host_and_the_outside_view(tmp_path):
    def check(app):
        assert isinstance(app.screen, MainScreen)
        line = " ".join(shown(app, "#host-line").split())
        assert line.startswith("Working on admin@matrix.example.org over SSH. TLS, HTTP and DTLS checks run "
                               "from the machine hardstep runs on (the outside view)")

    run(remote(wizard_engine(tmp_path)), check)


def test_first_run_on_a_remote_host_names_it_too(tmp_path):
    def check(app):
        assert isinstance(app.screen, WelcomeScreen)
        assert "admin@matrix.example.org" in shown(app, "#host-line")

    run(remote(wizard_engine(tmp_path, write_config=False)), check)


def test_on_this_machine_no_host_line(tmp_path):
    found = []
    run(wizard_engine(tmp_path), lambda app: found.append((type(app.screen), len(app.screen.query("#host-line")))))
    assert found == [(MainScreen, 0)]
