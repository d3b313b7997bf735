"""Step ``acme``: a container that gets coTURN's certificate through a Traefik TLS-passthrough
route, with its own narrow socket proxy that may restart or signal containers and nothing more.

The container-side actions (acme.sh, renewal script, crontab) live in ``app.steps.acme.setup``; the
fingerprint proof of passthrough in ``app.steps.acme.passthrough``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.steps.acme import setup as inside
from app.engine.actions import Action, sh
from app.containers.commands import LOST, read_text
from app.containers.spec import ContainerSpec, render_settings_diff, settings_diff, settings_of
from app.containers.actions import (CreateNetwork, PullImage, ReplaceContainer, RunContainer, StartContainer,
                                 find_container, find_network, hardstep_labels, image_present)
from app.errors import HardstepError
from app.redact import redact_value
from app.engine.model import CheckResult
from app.containers.probe import Probe, ProbeImageMissing
from app.steps.base import Step
from app.shared.socket_proxy import proxy_changes, proxy_spec
from app.steps.acme import challenge
from app.steps.acme.issuance import IssueFirstCertificate, coverage
from app.steps.acme.routes import router_name, traefik_labels  # noqa: F401  (tests import them from here)

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

# Restart, stop and kill (the SIGUSR2 reload) only: POST on, CONTAINERS off so nothing is created.
# The newer upstream rules (after docker-socket-proxy #182) deny kill unless ALLOW_KILL=1 as well;
# older images do not know the switch and ignore it.
NARROW_ENV = {"POST": "1", "ALLOW_RESTARTS": "1", "ALLOW_KILL": "1", "CONTAINERS": "0"}
# busybox crond in the foreground keeps the container alive and runs the renewal.
COMMAND = ["crond", "-f", "-L", "/dev/stdout"]
# An invalid ?t= makes the engine refuse before it restarts anything: the answer still comes from
# the engine, which proves the proxy let the call through, and coTURN keeps running.
HARMLESS_RESTART = "/containers/{name}/restart?t=hardstep-check"
HARMLESS_KILL = "/containers/{name}/kill?signal=hardstep-check"  # likewise: the engine refuses the signal
# The engine's own answers to the harmless calls (HAProxy says 403, or 502-504 without the socket).
ENGINE_ANSWERS = (204, 400, 404, 409, 500)


@dataclass
class AcmeSpec(ContainerSpec):
    """A ContainerSpec on more than one network, with its Traefik labels part of the comparison."""

    extra_networks: list[str] = field(default_factory=list)

    def create(self, host: "Host"):
        container = super().create(host)
        for name in self.extra_networks:  # joined before the first start, like --network twice
            host.docker.networks.get(name).connect(container)
        return container

    def docker_run(self) -> str:
        return "\n".join([super().docker_run()] + [sh("docker", "network", "connect", n, self.name)
                                                   for n in self.extra_networks])

    def settings(self) -> dict[str, str]:
        wanted = super().settings()
        wanted["networks"] = ", ".join(sorted([self.network, *self.extra_networks]))
        return wanted | {f"label {k}": redact_value(k, v) for k, v in self.labels.items() if k.startswith("traefik.")}


def current_settings(attrs: dict) -> dict[str, str]:
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    return settings_of(attrs) | {f"label {k}": redact_value(k, v) for k, v in labels.items() if k.startswith("traefik.")}


class Acme(Step):
    id = "acme"
    title = "Certificates for coTURN"

    def acme_spec(self, host: "Host", config: "Config", mode: str = "alpn") -> AcmeSpec:
        certs = config.turn.certs_dir
        for key in ("cert", "key"):
            path = config.value("turn", key)
            if not path.startswith(certs.rstrip("/") + "/"):
                raise HardstepError(f"[turn] {key} = {path} is not inside [turn] certs_dir = {certs}, "
                                    "the folder the acme container shares with coTURN")
        return AcmeSpec(
            name=config.acme.container, image=config.acme.image, network=config.docker.private_network,
            extra_networks=[config.acme.network], command=list(COMMAND),
            binds=[f"{host.machine_path(certs)}:{certs}"], restart="unless-stopped",
            cap_drop=["MKNOD", "NET_RAW"], security_opt=["no-new-privileges"],
            labels=hardstep_labels(self.id) | traefik_labels(host, config, mode),
        )

    def narrow_spec(self, host: "Host", config: "Config") -> ContainerSpec:
        return proxy_spec(host, config, config.acme.proxy_container, config.acme.network, NARROW_ENV, self.id)

    # --- plan ------------------------------------------------------------------------------
    def plan(self, host: "Host", config: "Config") -> list[Action]:
        docker, acme = config.docker, config.acme
        if find_network(host, docker.private_network) is None:
            raise HardstepError(f"the network {docker.private_network} does not exist yet; "
                                "apply the private-network step first")
        choice = challenge.choose(host, config)
        spec, narrow = self.acme_spec(host, config, choice.mode), self.narrow_spec(host, config)
        first = [] if coverage(host, config).ok else [IssueFirstCertificate(config)]
        if first and not acme.email:
            raise HardstepError("the first certificate needs an account with the certificate authority: "
                                "set [acme] email in settings")
        script, line = inside.renewal_script(config, choice.mode), inside.crontab_line(config)
        traefik = challenge.traefik_actions(host, config, choice)
        actions: list[Action] = [PullImage(image) for image in dict.fromkeys(
            [acme.image, docker.socket_proxy_image, docker.probe_image]) if not image_present(host, image)]
        if find_network(host, acme.network) is None:
            actions.append(CreateNetwork(acme.network, self.id, internal=True, purpose="only acme and its proxy join it"))
        actions += _container_actions(host, narrow, proxy_changes)
        container_actions = _container_actions(
            host, spec, lambda attrs, wanted: settings_diff(current_settings(attrs), wanted.settings()))
        actions += container_actions
        container = find_container(host, spec.name)
        if container_actions or container is None:  # a new or restarted container: nothing to read yet
            actions += [inside.InstallAcmeSh(spec.name), inside.WriteRenewalScript(spec.name, None, script),
                        inside.InstallCrontab(spec.name, line)]
        else:
            if not inside.has_programs(container, "acme.sh", "openssl"):
                actions.append(inside.InstallAcmeSh(spec.name))
            current = read_text(container, inside.SCRIPT_PATH)
            if current != script:
                actions.append(inside.WriteRenewalScript(spec.name, current, script))
            if line not in (inside.read_crontab(container) or "").splitlines():  # unread: install re-reads it
                actions.append(inside.InstallCrontab(spec.name, line))
        return actions + traefik + first  # the first certificate last: once script and route are in place

    def notes(self, host: "Host", config: "Config") -> list[str]:
        notes = ["The reference gives the main socket proxy POST=1 and ALLOW_RESTART=1 (misspelt: it does "
                 "nothing); with CONTAINERS=1 that lets anyone on the private network create a privileged "
                 f"container. hardstep gives acme its own proxy ({config.acme.proxy_container}: POST=1 "
                 "ALLOW_RESTARTS=1 ALLOW_KILL=1 CONTAINERS=0) and keeps Traefik's GET-only."]
        notes.append(f"Certificates come from {config.acme.server} ([acme] server)." if config.acme.server else
                     "[acme] server is empty: acme.sh asks its default CA (ZeroSSL since acme.sh 3.0); set it to "
                     "letsencrypt or another CA's directory URL to choose.")
        if not config.acme.email:
            notes.append("[acme] email is empty: renewals work while acme.sh keeps its account, but a new "
                         "acme container cannot register one; set it in settings")
        choice = challenge.choose(host, config)
        if choice.resolvers or choice.mode == "http":
            notes.append("Traefik answers every TLS-ALPN-01 challenge itself, even through the passthrough ("
                         + (f"tlsChallenge resolver {', '.join(choice.resolvers)}" if choice.resolvers else
                            "before 3.1.3 without any resolver") + "); " + choice.fix(config.traefik.config) + ".")
        return notes

    # --- checks ----------------------------------------------------------------------------
    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        from app.steps.acme.passthrough import check_passthrough

        choice = challenge.choose(host, config)
        results = self._container_checks(host, config, choice.mode) + self._narrow_proxy_checks(host, config)
        verdict = check_passthrough(host, config, choice)
        cert = coverage(host, config)
        return results + [self.check(f"TLS passthrough for {config.turn.domain}", verdict.ok, verdict.detail,
                                     **verdict.evidence),
                          self.check(f"certificate for {config.turn.domain} in {config.turn.certs_dir}", cert.ok,
                                     cert.detail, **cert.evidence)]

    def _container_checks(self, host: "Host", config: "Config", mode: str) -> list[CheckResult]:
        name = config.acme.container
        container = find_container(host, name)
        if container is None:
            return [self.check("acme container running", False, f"no container named {name}")]
        spec = self.acme_spec(host, config, mode)
        current = current_settings(container.attrs)
        labels = {k: v for k, v in spec.settings().items() if k.startswith("label ")}
        wrong = settings_diff(current, labels)
        other = settings_diff(current, {k: v for k, v in spec.settings().items() if k not in labels})
        results = [
            self.check("acme container running", container.status == "running", f"status {container.status}"),
            self.check("Traefik passthrough labels", not wrong, "; ".join(f"{k[6:]} is {old!r}, wanted {new!r}"
                       for k, old, new in wrong) or f"HostSNI(`{config.turn.domain}`) passed through to port 443",
                       wrong=[k[6:] for k, _, _ in wrong]),
            self.check("container settings", not other, "; ".join(
                f"{k}: {old}, wanted {new}" for k, old, new in other) or f"on {current['networks']}; "
                f"{config.turn.certs_dir} shared", changes=other),
        ]
        if container.status != "running":
            return results
        script, wanted_script = read_text(container, inside.SCRIPT_PATH), inside.renewal_script(config, mode)
        installed = inside.has_programs(container, "acme.sh", "openssl")
        line, crontab = inside.crontab_line(config), inside.read_crontab(container)
        cron = (crontab or "").splitlines()
        crond = container.attrs.get("Path", "").rsplit("/", 1)[-1] == "crond"
        if crontab is None:
            cron_ok, cron_detail = False, f"could not read the crontab of {name}: {LOST}; run the check again"
        elif not crond:
            cron_ok = False
            cron_detail = f"{name} runs {container.attrs.get('Path')!r}, not crond: its crontab never runs"
        else:
            cron_ok = line in cron
            cron_detail = f"crontab: {line}" if cron_ok else f"the crontab of {name} lacks: {line}"
        return results + [
            self.check("acme.sh installed", installed, "acme.sh and openssl are on the PATH" if installed
                       else f"acme.sh or openssl is missing in {name}"),
            self.check("renewal script up to date", script == wanted_script, "missing" if script is None else
                       ("as planned" if script == wanted_script else "differs from what hardstep writes")),
            self.check("renewal runs daily", cron_ok, cron_detail),
        ]

    def _narrow_proxy_checks(self, host: "Host", config: "Config") -> list[CheckResult]:
        acme, docker = config.acme, config.docker
        restart = HARMLESS_RESTART.format(name=config.turn.container)
        results = []
        proxy = find_container(host, acme.proxy_container)
        if proxy is None or proxy.status != "running":
            results.append(self.check("narrow proxy running", False, f"{acme.proxy_container} is "
                                      + ("missing" if proxy is None else proxy.status)))
        else:
            changes = proxy_changes(proxy.attrs, self.narrow_spec(host, config))
            results.append(self.check("narrow proxy settings", not changes, "; ".join(
                f"{k}: {old}, wanted {new}" for k, old, new in changes) or "POST=1 ALLOW_RESTARTS=1 ALLOW_KILL=1 CONTAINERS=0, "
                f"only on {acme.network}, socket read-only", changes=changes))
            results += self._matrix(host, docker.probe_image, acme.network, f"http://{acme.proxy_container}:2375", [
                (f"narrow proxy allows POST /containers/{config.turn.container}/restart", "POST", restart, True),
                (f"narrow proxy allows POST /containers/{config.turn.container}/kill", "POST",  # the SIGUSR2 reload
                 HARMLESS_KILL.format(name=config.turn.container), True),
                ("narrow proxy refuses POST /containers/create", "POST", "/containers/create", False),
                ("narrow proxy refuses GET /networks", "GET", "/networks", False)])
        main = find_container(host, docker.socket_proxy_container)
        if main is None or main.status != "running":
            return results + [self.check("Traefik's proxy refuses POST", False, f"{docker.socket_proxy_container} is "
                                         "not running; apply the socket-proxy step")]
        return results + self._matrix(host, docker.probe_image, docker.private_network,
                                      f"http://{docker.socket_proxy_container}:2375", [
            (f"Traefik's proxy refuses POST /containers/{config.turn.container}/restart", "POST", restart, False),
            ("Traefik's proxy refuses POST /containers/create", "POST", "/containers/create", False)])

    def _matrix(self, host: "Host", image: str, network: str, base: str,
                cases: list[tuple[str, str, str, bool]]) -> list[CheckResult]:
        """Ask the proxy at ``base`` from ``network``; each case is (name, method, path, allowed)."""
        try:
            with Probe(host, image, network) as probe:
                probe.settled(base + "/_ping")  # wait until the proxy answers at all
                answers = [probe.post(base + path) if method == "POST" else probe.get(base + path)
                           for _, method, path, _ in cases]
        except ProbeImageMissing as exc:
            return [self.check(name, False, str(exc)) for name, *_ in cases]
        results = []
        for (name, method, path, allowed), answer in zip(cases, answers):
            ok = answer.status in ENGINE_ANSWERS if allowed else answer.status == 403
            if answer.status is None:
                detail = f"no HTTP answer from {base} ({answer.evidence})"
            elif allowed:
                detail = (f"the proxy passed it on; the engine answered {answer.status} (the invalid argument keeps "
                          "it from doing anything)") if ok else f"answered {answer.status}: the proxy refuses it"
            else:
                detail = f"refused with 403 from {network}" if ok else f"answered {answer.status}: the proxy lets it through"
            results.append(self.check(name, ok, detail, url=base + path, method=method, status=answer.status))
        return results


def _container_actions(host: "Host", spec: ContainerSpec, changes_of) -> list[Action]:
    container = find_container(host, spec.name)
    if container is None:
        return [RunContainer(spec)]
    changes = changes_of(container.attrs, spec)
    if changes:
        return [ReplaceContainer(spec, render_settings_diff(spec.name, changes), replaces=container.id)]
    return [] if container.status == "running" else [StartContainer(spec.name)]
