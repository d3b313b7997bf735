"""Step ``daemon``: harden the Docker engine itself through daemon.json, then restart it.

Every other key of daemon.json and the file's layout stay as they are; a file that is not valid
JSON is refused. The restart is the riskiest moment of the wizard: the plan says what stops, the
restart goes through the host's service manager (or ``[docker] restart_command``), and hardstep
waits for the engine and reports which containers came back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.engine.actions import Action, EditFile
from app.steps.daemon.actions import RestartEngine, ValidateDaemonConfig, restart_command, what_stops
from app.shared.engine_facts import ICC, EngineFacts, dockerd_flags, flag_keys, gather
from app.editors.json_text import parse, set_keys
from app.errors import HardstepError
from app.engine.model import CheckResult
from app.shared import seccomp
from app.steps.base import Step

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

USERNS = ("userns-remap (opt-in): the engine maps root in containers to an unprivileged host user. "
          "Consequences: it then keeps images, containers and volumes in a new folder under its data root, so "
          "existing ones are not visible until you turn it off again (re-create them; chown volume files to "
          "the remapped ids); containers that use the Docker socket, such as the socket proxy, need "
          "--userns=host; --privileged containers do not work with it; the engine creates a 'dockremap' user.")


class Daemon(Step):
    id = "daemon"
    title = "Docker daemon hardening"
    options = (("docker", "userns_remap"),)
    rolls_back_without_engine = True

    def _document(self, host: "Host", config: "Config") -> tuple[str | None, dict[str, Any]]:
        path = config.docker.daemon_config
        before = host.read_text(path)
        return before, parse(before or "", path)

    def wanted(self, host: "Host", config: "Config", facts: EngineFacts,
               document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(the keys hardstep sets in daemon.json, why some are left out)."""
        d = config.docker
        wanted: dict[str, Any] = {"icc": False, "userland-proxy": False, "live-restore": True,
                                  "no-new-privileges": True, "seccomp-profile": host.machine_path(d.seccomp_profile)}
        notes = []
        if facts.swarm:
            del wanted["live-restore"]
            notes.append("live-restore is left out: this engine is in swarm mode, where live-restore does not work")
        driver = document.get("log-driver", "json-file")
        if driver == "json-file":
            wanted["log-opts"] = {"max-size": d.log_max_size, "max-file": str(d.log_max_file)}
        elif driver != "local":  # the local driver rotates by itself
            notes.append(f"log rotation is left out: the {driver} log driver takes no max-size/max-file")
        if d.userns_remap:
            wanted["userns-remap"] = "default"
        flags = dockerd_flags(host, document.get("pidfile") or "/var/run/docker.pid") or []
        for key in sorted(set(wanted) & flag_keys(flags)):
            del wanted[key]
            notes.append(f"{key} is left out: the running dockerd sets --{key} on its command line, and dockerd "
                         "refuses a setting given both ways; change it where that flag is set")
        given = next((w.split("=", 1)[1] for w in flags if w.startswith("--config-file=")), None)
        if given is None and "--config-file" in flags:
            given = flags[flags.index("--config-file") + 1]
        if given and given != host.machine_path(d.daemon_config):
            notes.append(f"the running dockerd reads {given}, not {d.daemon_config}: set [docker] daemon_config")
        return wanted, notes

    def plan(self, host: "Host", config: "Config") -> list[Action]:
        d = config.docker
        before, document = self._document(host, config)
        facts = gather(host)
        wanted, _ = self.wanted(host, config, facts, document)
        after = set_keys(before or "", wanted, d.daemon_config)
        actions: list[Action] = []
        if after != (before or ""):
            actions.append(ValidateDaemonConfig(d.daemon_config, after))
        profile_before = host.read_text(d.seccomp_profile)
        if "seccomp-profile" in wanted and profile_before != seccomp.profile_text():
            actions.append(EditFile(d.seccomp_profile, profile_before, seccomp.profile_text(),
                                    summary=f"Install hardstep's seccomp profile as {d.seccomp_profile}"))
        if after != (before or ""):
            actions.append(EditFile(d.daemon_config, before, after,
                                    summary=f"Merge the hardening settings into {d.daemon_config}"))
        argv, _ = restart_command(host, config)
        if argv and (actions or self._pending(facts, wanted)):
            actions.append(RestartEngine(argv, d.restart_timeout, self._stops(host, facts, wanted)))
        return actions

    def _stops(self, host: "Host", facts: EngineFacts, wanted: dict[str, Any]) -> str:
        return what_stops(host, bool(facts.info.get("LiveRestoreEnabled")), "live-restore" in wanted)

    def _pending(self, facts: EngineFacts, wanted: dict[str, Any]) -> list[str]:
        """Settings in the file that the running engine does not use yet: it needs a restart."""
        pending = []
        if "icc" in wanted and facts.bridge_options.get(ICC) != "false":
            pending.append("icc")
        if "live-restore" in wanted and not facts.info.get("LiveRestoreEnabled"):
            pending.append("live-restore")
        if "seccomp-profile" in wanted and facts.seccomp_profile() != wanted["seccomp-profile"]:
            pending.append("seccomp-profile")
        if "userns-remap" in wanted and not facts.userns:
            pending.append("userns-remap")
        return pending

    def notes(self, host: "Host", config: "Config") -> list[str]:
        before, document = self._document(host, config)
        facts = gather(host)
        _, notes = self.wanted(host, config, facts, document)
        argv, why = restart_command(host, config)
        if argv is None:
            notes.append(f"hardstep cannot restart the engine here ({why}): restart it yourself after applying")
        else:
            wanted, _ = self.wanted(host, config, facts, document)
            notes.append(f"Restarting the engine ({why}): {self._stops(host, facts, wanted)}")
        if facts.info.get("LiveRestoreEnabled") and facts.bridge_options.get(ICC) != "false":
            notes.append("icc reaches the default bridge only if no container runs on it during the restart "
                         "(live-restore keeps the old bridge for them)")
        notes.append("From now on every container without a seccomp profile of its own gets hardstep's: no raw, "
                     "packet or netlink sockets (reading the interfaces, NETLINK_ROUTE, stays open), no ptrace, no mount. "
                     "A container that needs them must name its "
                     "own profile (--security-opt seccomp=...).")
        if host.os_release().get("NAME") in ("BurmillaOS", "RancherOS"):
            notes.append("BurmillaOS: keep these keys out of rancher.docker.extra_args (ros config get "
                         "rancher.docker), or dockerd refuses to start")
        notes.append(USERNS if config.docker.userns_remap else f"Not ticked: {USERNS}")
        return notes

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        d = config.docker
        try:
            _, document = self._document(host, config)
        except HardstepError as exc:
            return [self.check("daemon.json has the settings", False, str(exc))]
        facts = gather(host, d.probe_image)
        wanted, _ = self.wanted(host, config, facts, document)
        wrong = {k: document.get(k, "(unset)") for k, v in wanted.items()
                 if not (document.get(k) == v or isinstance(v, dict) and isinstance(document.get(k), dict)
                         and all(document[k].get(sk) == sv for sk, sv in v.items()))}
        results = [self.check("daemon.json has the settings", not wrong,
                              ("wrong or missing: " + ", ".join(f"{k} = {v!r}" for k, v in wrong.items()))
                              if wrong else f"{', '.join(wanted)} set in {d.daemon_config}", wrong=wrong)]
        return results + self._engine_checks(facts, wanted, config)

    def _engine_checks(self, facts: EngineFacts, wanted: dict[str, Any], config: "Config") -> list[CheckResult]:
        icc = facts.bridge_options.get(ICC, "unset")
        fresh = facts.fresh
        results = [self.check("icc off on the default bridge", icc == "false", f"{ICC}={icc}", icc=icc)]
        if facts.swarm:
            results.append(self.check("live-restore on", None, "skipped: not available in swarm mode"))
        else:
            live = bool(facts.info.get("LiveRestoreEnabled"))
            results.append(self.check("live-restore on", live, f"LiveRestoreEnabled: {live}"))
        if fresh is None or fresh.error:
            why = fresh.error if fresh else "no probe ran"
            return results + [self.check(n, False, why) for n in
                              ("no-new-privileges in a new container", "hardstep's seccomp profile is the default",
                               "userland proxy off")]
        nnp = fresh.status.get("NoNewPrivs", "?")
        results.append(self.check("no-new-privileges in a new container", nnp == "1",
                                  f"a fresh container's /proc/self/status: NoNewPrivs: {nnp}", NoNewPrivs=nnp))
        profile = facts.seccomp_profile()
        expected = wanted.get("seccomp-profile", profile)
        ok = profile == expected and fresh.raw_socket is False
        results.append(self.check("hardstep's seccomp profile is the default", ok,
                                  f"engine profile: {profile}; a fresh container's ping "
                                  f"{'failed (raw socket refused)' if fresh.raw_socket is False else 'worked'}",
                                  profile=profile, raw_socket=fresh.raw_socket))
        if fresh.userland_proxies is None:
            results.append(self.check("userland proxy off", None, "skipped: the engine's processes are not on "
                                      "this machine"))
        else:
            proxies = fresh.userland_proxies
            results.append(self.check("userland proxy off", not proxies,
                                      f"a published port started {proxies[0]}" if proxies else
                                      "a published port started no docker-proxy process", processes=proxies))
        results.append(self._log_check(fresh.log_config, wanted))
        if config.docker.userns_remap:
            results.append(self.check("userns-remap on", facts.userns, ", ".join(facts.security_options)))
        return results

    def _log_check(self, log_config: dict[str, Any], wanted: dict[str, Any]) -> CheckResult:
        if "log-opts" not in wanted:
            return self.check("log rotation", None, f"skipped: log driver {log_config.get('Type', '?')}")
        options = log_config.get("Config") or {}
        ok = all(options.get(k) == v for k, v in wanted["log-opts"].items())
        return self.check("log rotation", ok, f"a fresh container logs with {log_config.get('Type')} "
                          f"{', '.join(f'{k}={v}' for k, v in options.items()) or 'without rotation'}",
                          log_config=options)
