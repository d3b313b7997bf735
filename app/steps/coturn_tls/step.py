"""Step ``coturn-tls``: coTURN serves TURNS (TLS on TCP, DTLS on UDP) with the certificate the
acme step keeps in the shared folder, and Synapse hands clients ``turns:`` URIs.

``turnserver.conf`` is edited by ``app.editors.turnserver`` with the options the *running*
coturn version knows (``app.steps.coturn_tls.coturn``); ``homeserver.yaml`` by ``app.editors.yaml_text``. The
checks are a real TLS handshake to the TURNS address (names, trust, expiry), a DTLS handshake
on UDP, and the certificate and key files themselves (``app.steps.coturn_tls.checks``).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from app.engine.actions import Action, EditFile, FileBackup
from app.engine.undo import UndoRecord
from app.steps.coturn_tls.coturn import RestartChecked, SignalContainer, detect_version, shown, stale_options, tls_options
from app.containers.actions import ReplaceContainer, find_container
from app.errors import HardstepError
from app.engine.model import CheckResult
from app.steps.base import Step
from app.steps.coturn_tls.checks import TurnChecks
from app.steps.coturn_tls.wanted import plain_port, turn_uris, wanted_conf
from app.containers.undo import ContainerReplaced
from app.shared.synapse import refuse_example_url, restart_synapse

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

FIREWALL_NOTE = {
    False: "turns: only: every client talks TLS to the TURN server, which strict firewalls that let only "
           "TLS out pass (when they allow the port); a client that cannot do TURNS gets no relay",
    True: "turns: first, plain turn: kept as a fallback: clients whose TLS to the TURN server fails still get "
          "a relay, but firewalls that inspect traffic can block plain TURN, and its signalling is unencrypted",
}


def certificate_paths_problem(config: "Config") -> str | None:
    """Why ``[turn] cert``/``key`` cannot be used: outside the shared folder, or odd whitespace."""
    folder = PurePosixPath(config.turn.certs_dir)
    for key in ("cert", "key"):
        value = config.value("turn", key)
        if value != value.strip() or not PurePosixPath(value).is_relative_to(folder) or PurePosixPath(value) == folder:
            return (f"[turn] {key} = {value} is not a file in [turn] certs_dir = {folder}: the acme container "
                    f"writes the certificate there and coTURN sees only that folder. Set [turn] {key} to a file "
                    f"in {folder} (such as {folder / ('fullchain.pem' if key == 'cert' else 'privkey.pem')}), "
                    "or change [turn] certs_dir")
    return None


def mounted_at_same_path(container, path: str, host: "Host") -> bool:
    """True when the container sees the host's ``path`` at the same path (a bind of it or a parent)."""
    for mount in container.attrs.get("Mounts") or []:
        target = mount.get("Destination", "")
        if mount.get("Type") == "bind" and PurePosixPath(path).is_relative_to(target) \
                and mount.get("Source") in (target, host.machine_path(target)):
            return True
    return False


class CoturnTls(Step, TurnChecks):
    id = "coturn-tls"
    title = "TURNS for coTURN"
    options = (("turn", "keep_plain_uris"), ("turn", "no_tcp_relay"), ("turn", "no_multicast_peers"),
               ("turn", "deny_private_peers"), ("turn", "no_cli"))

    def _container(self, host: "Host", config: "Config"):
        container = find_container(host, config.turn.container)
        if container is None:
            raise HardstepError(f"no container named {config.turn.container}; set [turn] container in settings")
        return container

    def _read(self, host: "Host", path: str, key: str) -> str:
        text = host.read_text(path)
        if text is None:
            raise HardstepError(f"{path} not found; set {key} in settings")
        return text

    # --- plan, apply, rollback ------------------------------------------------------------
    def plan(self, host: "Host", config: "Config") -> list[Action]:
        from app.editors import turnserver, yaml_text

        problem = certificate_paths_problem(config)
        if problem:
            raise HardstepError(problem)
        container = self._container(host, config)
        version, _ = detect_version(container)
        path = config.turn.config
        conf = self._read(host, path, "[turn] config")
        tls = tls_options(version, config.turn.dtls)
        new_conf = turnserver.set_options(conf, wanted_conf(config, tls.set), tls.unset)
        actions: list[Action] = []
        if new_conf != conf:
            actions += [EditFile(path, conf, new_conf, summary=self._conf_summary(conf, new_conf, version)),
                        self._reload(host, config, container)]
        hs_path = config.synapse.config
        homeserver = self._read(host, hs_path, "[synapse] config")
        uris = turn_uris(config, plain_port(new_conf))
        new_hs = yaml_text.set_keys(homeserver, {"turn_uris": uris}, hs_path)
        if new_hs != homeserver:
            actions += [EditFile(hs_path, homeserver, new_hs, summary=f"Set turn_uris: [{', '.join(uris)}] in "
                                 f"{hs_path} ({FIREWALL_NOTE[config.turn.keep_plain_uris]})"),
                        restart_synapse(config, "so it hands clients the new TURN URIs")]
        if not actions and self.serves_stale_certificate(host, config):
            actions.append(SignalContainer(config.turn.container))
        return actions

    def _conf_summary(self, before: str, after: str, version) -> str:
        from app.editors.turnserver import values

        old, new = values(before), values(after)
        changed = [f"{key}={v}" if v is not None else key for key, vals in new.items() if old.get(key) != vals
                   for v in vals if v not in old.get(key, [])]
        gone = [key for key in old if key not in new]
        relative = [f"{key}={v}" for key in ("cert", "pkey") for v in old.get(key, []) if v and not v.startswith("/")]
        text = f"Set in the turnserver.conf for coturn {shown(version)}: {', '.join(changed)}"
        if gone:
            text += f"; comment out {', '.join(gone)}"
        if relative:
            text += f" (was {', '.join(relative)}: a relative path, which coturn does not find; now absolute)"
        return text

    def _reload(self, host: "Host", config: "Config", container) -> Action:
        """A restart; a recreate when the file itself is bind-mounted (it keeps the old inode)."""
        from app.containers.recreate import Twin, image_config

        sources = {m.get("Source") for m in container.attrs.get("Mounts") or [] if m.get("Type") == "bind"}
        if host.machine_path(config.turn.config) in sources or config.turn.config in sources:
            twin = Twin(container.attrs, image_config=image_config(host, container.attrs["Image"]))
            return ReplaceContainer(twin, f"(no setting changes: recreated so it reads the new {config.turn.config};\n"
                                          " a file bind mount keeps showing the old file to a running container)\n",
                                    replaces=container.id)
        return RestartChecked(config.turn.container, why="so it reads the new turnserver.conf")

    def preflight(self, host: "Host", config: "Config", actions: list[Action]) -> None:
        refuse_example_url(config, actions)

    def rollback(self, host: "Host", config: "Config", undo: list[UndoRecord]) -> list[Action]:
        actions = super().rollback(host, config, undo)
        paths = {r.path for r in undo if isinstance(r, FileBackup)}
        replaced = any(isinstance(r, ContainerReplaced) and r.name == config.turn.container for r in undo)
        if config.turn.config in paths and not replaced:  # a put-back twin reads the old file already
            actions.append(RestartChecked(config.turn.container, why="so it reads the restored turnserver.conf"))
        if config.synapse.config in paths:
            actions.append(restart_synapse(config, "so it reads the restored homeserver.yaml"))
        return actions

    def notes(self, host: "Host", config: "Config") -> list[str]:
        from app.editors.turnserver import values

        notes = [f"TURN URIs: {FIREWALL_NOTE[config.turn.keep_plain_uris]} (plan item [turn] keep_plain_uris)."]
        container = find_container(host, config.turn.container)
        if container is None:
            return notes
        version, source = detect_version(container)
        notes.append(f"coturn {shown(version)} (read from {source})." if version else
                     f"The coturn version is unknown: {source}.")
        notes += tls_options(version, config.turn.dtls).notes
        stale = stale_options(version, values(host.read_text(config.turn.config) or ""))
        if stale:
            notes.append(f"turnserver.conf sets {', '.join(stale)}, which coturn {shown(version)} no longer knows "
                         "(it logs 'Bad configuration format' and goes on; TLS 1.0/1.1 are off by default there).")
        if not mounted_at_same_path(container, config.turn.cert, host):
            notes.append(f"{config.turn.container} does not mount {config.turn.certs_dir} at the same path, so it "
                         f"cannot read {config.turn.cert}: recreate it with -v {config.turn.certs_dir}:"
                         f"{config.turn.certs_dir}:ro (host networking as before).")
        notes.append("Some WebRTC mobile clients have failed TURNS with Let's Encrypt certificates; if calls "
                     "from phones break, keep the plain URIs as a fallback.")
        return notes

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        return self.config_checks(host, config) + self.file_checks(host, config) + self.live_checks(host, config)
