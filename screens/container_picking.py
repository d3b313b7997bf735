"""The container picker, for steps that pick containers (the sandbox): ask Docker in a worker,
open the picker with the answer, save the choice in a worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from screens import jobs

if TYPE_CHECKING:
    from app.engine.runner import Engine
    from app.steps import StepInfo


class ContainerPicking:
    """Mixed into ``MainScreen``, which provides the attributes below, ``notify``, ``run_job``
    and ``_option_saved``."""

    engine: "Engine"
    selected: "StepInfo | None"
    running: str | None
    docker_ok: bool | None

    def action_pick_containers(self) -> None:
        """Ask Docker for the running containers in a worker; the picker opens with the answer."""
        if self.selected is None or not self.selected.picks_containers:
            return
        if self.running:
            self.notify("Containers can be picked when nothing is running.", severity="warning")
            return
        if self.docker_ok is False:
            self.notify("Picking containers needs Docker, which does not answer. Start it "
                        "(systemctl start docker) or set DOCKER_HOST, then press d.", severity="error")
            return
        from screens.picker import suggestion_rows

        self.run_job("suggestions", suggestion_rows, exclusive=True)

    def _open_picker(self, rows: list[dict]) -> None:
        from screens.picker import ContainerPicker

        if self.running or self.app.screen is not self:
            return  # something else started, or a dialog opened, while Docker answered
        self.app.push_screen(ContainerPicker(rows, list(self.engine.config.sandbox.containers)),
                             self._picked)

    def _picked(self, names: list[str] | None) -> None:
        from app.config.settings import check_value
        from app.errors import ConfigError

        if names is None or names == list(self.engine.config.sandbox.containers):
            self.notify("Nothing was changed.")
            return
        try:
            names = check_value("sandbox", "containers", names)
            config = self.engine.config.with_value("sandbox", "containers", names)
        except ConfigError as exc:
            self.notify(f"Nothing was saved: {exc}.", severity="error", timeout=10)
            return
        self.run_job("picked", jobs.save_settings, config, exclusive=True)

    def _picked_saved(self, config) -> None:
        names = ", ".join(config.sandbox.containers) or "none"
        self.notify(f"Sandboxed containers saved to {config.path}: {names}.")
        self._option_saved(config)  # the engine gets the file's settings; the plan is made again
