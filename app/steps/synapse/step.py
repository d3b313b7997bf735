"""Step ``synapse``: close the public room directory, whitelist federation, and (ticked in the
plan) close registration, guest access and TURN for guests, by editing ``homeserver.yaml``
line by line and restarting Synapse.

The edit goes through ``app.editors.yaml_text`` (only the lines that change differ) and an
``EditFile`` action (backup, atomic write, redacted diff). Checks ask the running Synapse, without
a token, for its room directory and registration, and read the federation whitelist back from
the file: it cannot be probed without a signed federation request.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from app.engine.actions import Action, ApplyContext, EditFile, FileBackup
from app.engine.undo import UndoRecord
from app.containers.actions import RestartContainer
from app.shared.synapse import is_example_url, refuse_example_url, restart_synapse
from app.errors import ApplyError, HardstepError
from app.engine.model import CheckResult
from app.steps.base import Step

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

DIRECTORY_KEYS = ("allow_public_rooms_without_auth", "allow_public_rooms_over_federation")
WHITELIST_KEY = "federation_domain_whitelist"
# The pre-1.7 name for closing both; Synapse refuses to start when it is set next to the new keys.
LEGACY_KEY = "restrict_public_rooms_to_local_users"
# Plan option (a [synapse] setting) -> the homeserver.yaml key it sets to false.
OPTION_KEYS = {"disable_registration": "enable_registration",
               "disable_guest_access": "allow_guest_access",
               "disable_turn_guests": "turn_allow_guests"}
# What Synapse assumes when a key is not in the file (FACTS: public-room defaults since 1.7.0).
DEFAULTS = {"allow_public_rooms_without_auth": False, "allow_public_rooms_over_federation": False,
            "enable_registration": False, "allow_guest_access": False, "turn_allow_guests": True}
PROBE_USER = "hardstep-check"


class Synapse(Step):
    id = "synapse"
    title = "Synapse lockdown"
    options = (("synapse", "disable_registration"), ("synapse", "disable_guest_access"),
               ("synapse", "disable_turn_guests"))

    # --- what the file should say ---------------------------------------------------------
    def whitelist(self, config: "Config") -> list[str]:
        """The server's own name first (synapse issue 6635), then the settings' servers."""
        names: dict[str, str] = {}
        for name in [config.synapse.server_name, *config.synapse.federation_whitelist]:
            names.setdefault(name.lower(), name)
        return list(names.values())

    def wanted(self, config: "Config") -> dict[str, Any]:
        values: dict[str, Any] = {key: False for key in DIRECTORY_KEYS}
        values[WHITELIST_KEY] = self.whitelist(config)
        for option, key in OPTION_KEYS.items():
            if config.value("synapse", option):
                values[key] = False
        return values

    def missing(self, settings: dict[str, Any], config: "Config") -> dict[str, Any]:
        """The wanted keys the file does not hold yet (a whitelist in another order is fine)."""
        wanted = self.wanted(config)
        if LEGACY_KEY in settings:  # writing the new keys next to it would stop Synapse from starting
            wanted = {key: value for key, value in wanted.items() if key not in DIRECTORY_KEYS}
        return {key: value for key, value in wanted.items() if not _same(settings.get(key, _ABSENT), value)}

    def read(self, host: "Host", config: "Config") -> tuple[str, dict[str, Any]]:
        from app.editors.yaml_text import load_plain

        path = config.synapse.config
        text = host.read_text(path)
        if text is None:
            raise HardstepError(f"{path} not found; set [synapse] config to your homeserver.yaml")
        return text, load_plain(text, path)

    # --- plan, apply, rollback ------------------------------------------------------------
    def plan(self, host: "Host", config: "Config") -> list[Action]:
        from app.editors.yaml_text import render_scalar, set_keys

        text, settings = self.read(host, config)
        changes = self.missing(settings, config)
        if not changes:
            return []
        path = config.synapse.config
        shown = []
        for key, value in changes.items():
            shown.append(f"{key}: [{', '.join(value)}]" if isinstance(value, list) else f"{key}: {render_scalar(value)}")
            if key == WHITELIST_KEY:
                shown[-1] += (" (federation off: only this server itself)" if len(value) == 1
                              else " (only these servers may federate)")
        edit = EditFile(path, text, set_keys(text, changes, path), summary=f"Set in {path}: {'; '.join(shown)}")
        return [edit, restart_synapse(config, "so it reads the new homeserver.yaml")]

    def preflight(self, host: "Host", config: "Config", actions: list[Action]) -> None:
        refuse_example_url(config, actions)

    def apply(self, host: "Host", config: "Config", action: Action, ctx: ApplyContext) -> list[UndoRecord]:
        try:
            return super().apply(host, config, action, ctx)
        except ApplyError as exc:
            if not isinstance(action, RestartContainer):
                raise
            # Backups are named <file>.<UTC timestamp>: the last in name order is this edit's.
            backups = sorted(ctx.backup_dir.glob(PurePosixPath(config.synapse.config).name + ".*"))
            saved = f" ({backups[-1]})" if backups else ""
            raise ApplyError(f"Synapse did not come back: {exc}. The edited {config.synapse.config} is in "
                             f"place; 'hardstep rollback synapse' restores the backup{saved} and restarts "
                             "Synapse (fix the cause first if it was not the edit)") from None

    def rollback(self, host: "Host", config: "Config", undo: list[UndoRecord]) -> list[Action]:
        actions = super().rollback(host, config, undo)
        if any(isinstance(record, FileBackup) for record in undo):
            actions.append(restart_synapse(config, "so it reads the restored homeserver.yaml"))
        return actions

    def notes(self, host: "Host", config: "Config") -> list[str]:
        notes = []
        if not config.synapse.federation_whitelist:
            notes.append(f"[synapse] federation_whitelist is empty: federation is off, {config.synapse.server_name} "
                         "talks only to itself. List the servers to federate with in settings.")
        if is_example_url(config.synapse.url):
            notes.append(f"[synapse] url is {config.synapse.url}, an example address: set it to your homeserver's "
                         "URL before applying; hardstep waits there for Synapse after the restart.")
        return notes

    # --- checks ---------------------------------------------------------------------------
    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        results = self.config_checks(host, config)
        url = config.synapse.url.rstrip("/")
        results.append(self.probe(url + "/_matrix/client/v3/publicRooms", "publicRooms -> 401", (401, "M_MISSING_TOKEN"),
                                  "the room directory needs a login",
                                  "anyone can list this server's public rooms without logging in"))
        if config.synapse.disable_registration:
            results.append(self.probe(url + f"/_matrix/client/v3/register/available?username={PROBE_USER}",
                                      "register/available -> 403", (403, None), "registration is disabled",
                                      "anyone can register an account here"))
        else:
            results.append(self.check("register/available -> 403", None,
                                      "skipped: closing registration is not ticked in the plan "
                                      "([synapse] disable_registration)"))
        return results

    def config_checks(self, host: "Host", config: "Config") -> list[CheckResult]:
        try:
            _, settings = self.read(host, config)
        except HardstepError as exc:
            return [self.check("homeserver.yaml readable", False, str(exc))]
        results = []
        results.append(self.directory_check(settings))
        results.append(self.whitelist_check(settings.get(WHITELIST_KEY, _ABSENT), config))
        ticked = {key: settings.get(key, _ABSENT) for option, key in OPTION_KEYS.items()
                  if config.value("synapse", option)}
        if ticked:
            still_on = [key for key, value in ticked.items() if _effective(key, value)]
            results.append(self.check("ticked options in config", not still_on,
                                      "; ".join(f"{key}: {_shown(key, value)}" for key, value in ticked.items()),
                                      **_evidence(ticked)))
        return results

    def directory_check(self, settings: dict[str, Any]) -> CheckResult:
        """Both public-room keys off, computed the way Synapse does (legacy key included)."""
        name = "directory closed in config"
        values = {key: settings.get(key, _ABSENT) for key in DIRECTORY_KEYS}
        evidence = _evidence(values)
        shown = "; ".join(f"{key}: {_shown(key, value)}" for key, value in values.items())
        if LEGACY_KEY in settings:
            if any(value is not _ABSENT for value in values.values()):
                return self.check(name, False, f"{LEGACY_KEY} is set next to {' / '.join(DIRECTORY_KEYS)}: "
                                  f"Synapse refuses to start like this; remove {LEGACY_KEY}", **evidence)
            # true closes both; false leaves the new keys' defaults, which are closed too
            return self.check(name, True, f"{LEGACY_KEY}: {_shown(LEGACY_KEY, settings[LEGACY_KEY])} (the pre-1.7 setting; "
                              "the new keys are left out, Synapse refuses both together)", **evidence)
        open_keys = [key for key, value in values.items() if _effective(key, value)]
        return self.check(name, not open_keys, shown, **evidence)

    def whitelist_check(self, value: Any, config: "Config") -> CheckResult:
        own, wanted = config.synapse.server_name, self.whitelist(config)
        name = "federation whitelist"
        unprobed = (" Read from the file, not probed: Synapse answers an unsigned federation request "
                    "with 401 before it looks at the whitelist.")
        if value is _ABSENT or value is None:
            return self.check(name, False, f"{WHITELIST_KEY} is not set: every server may federate." + unprobed)
        if not isinstance(value, list):
            return self.check(name, False, f"{WHITELIST_KEY} is not a list ({value!r})." + unprobed)
        listed = [str(v) for v in value]
        if own.lower() not in {v.lower() for v in listed}:
            return self.check(name, False, f"{WHITELIST_KEY}: [{', '.join(listed)}] lacks this server's own "
                              f"name {own} (synapse issue 6635)." + unprobed, whitelist=listed)
        if not _same(listed, wanted):
            return self.check(name, False, f"{WHITELIST_KEY}: [{', '.join(listed)}], but settings say "
                              f"[{', '.join(wanted)}]; apply the step again." + unprobed, whitelist=listed)
        scope = "federation off except for this server itself" if len(listed) == 1 else "only these servers federate"
        return self.check(name, True, f"{WHITELIST_KEY}: [{', '.join(listed)}] ({scope})." + unprobed,
                          whitelist=listed)

    def probe(self, url: str, name: str, expected: tuple[int, str | None], closed: str, opened: str) -> CheckResult:
        """An unauthenticated GET of ``url``: pass on the ``expected`` (status, errcode)."""
        if is_example_url(url):
            return self.check(name, False, f"not probed: [synapse] url is an example address ({url}); set it to "
                              "your homeserver's URL", url=url)
        status, errcode, error = _get(url)
        if status is None:
            return self.check(name, False, f"no answer from {url} ({error})", url=url)
        got = f"answered {status}" + (f" {errcode}" if errcode else "")
        if status == expected[0] and expected[1] in (None, errcode):
            ok, detail = True, f"{got}: {closed}"
        else:
            ok, detail = False, f"{got}: {opened}" if status == 200 else f"{got}, expected {expected[0]} {expected[1] or ''}".rstrip()
        return self.check(name, ok, detail, url=url, status=status, errcode=errcode)


_ABSENT = type("NotSet", (), {"__repr__": lambda self: "not set"})()  # a key the file does not have


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        return isinstance(current, list) and {str(v).lower() for v in current} == {w.lower() for w in wanted}
    return current is not _ABSENT and current is wanted


def _effective(key: str, value: Any) -> Any:
    return DEFAULTS[key] if value is _ABSENT else value


def _shown(key: str, value: Any) -> str:
    if value is _ABSENT:
        return f"not set ({str(DEFAULTS[key]).lower()} by default)"
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _evidence(values: dict[str, Any]) -> dict[str, Any]:
    return {key: None if value is _ABSENT else value for key, value in values.items()}


def _get(url: str) -> tuple[int | None, str | None, str]:
    """(status, Matrix errcode, error) of an unauthenticated GET; status None when no answer."""
    from app.net import http

    answer = http.get_settled(url, timeout=5, follow_redirects=False)  # Synapse may just have restarted
    errcode = answer.json.get("errcode") if isinstance(answer.json, dict) else None
    return answer.status, errcode, answer.error[:200]
