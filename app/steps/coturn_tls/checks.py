"""The coturn-tls step's checks: the files say TURNS, the certificate files are sound, and a real
TLS handshake (and a DTLS one on UDP) presents a certificate for the TURN domain that is trusted
and not about to expire.

Checks connect to ``[turn] tls_address`` (empty: ``<TURN domain>:<tls port>``) with the TURN
domain as SNI, so tests can aim them at loopback. ``[turn] ca_file`` is a path on the managed
host (under ``--root``), like every other path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import HardstepError
from app.engine.model import CheckResult, utcnow

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host
    from app.net.tls import CertInfo

WARN_DAYS = 14


def tls_target(config: "Config") -> tuple[str, int]:
    from app.net.tls import parse_address

    address = config.turn.tls_address or f"{config.turn.domain}:{config.turn.tls_port}"
    return parse_address(address, config.turn.tls_port)


def _summary(info: "CertInfo") -> str:
    return f"for {', '.join(info.names) or '(no names)'}, issued by {info.issuer}, expires {info.not_after:%Y-%m-%d}"


class TurnChecks:
    """Mixed into the step: ``self.check`` comes from Step."""

    # --- the files say TURNS --------------------------------------------------------------
    def config_checks(self, host: "Host", config: "Config") -> list[CheckResult]:
        from app.editors.turnserver import holds, values
        from app.editors.yaml_text import load_plain
        from app.steps.coturn_tls.wanted import plain_port, turn_uris, wanted_conf

        results = []
        conf = host.read_text(config.turn.config)
        if conf is None:
            results.append(self.check("turnserver.conf has TLS", False, f"{config.turn.config} not found"))
        else:
            active = values(conf)
            wrong = [key for key, want in wanted_conf(config, {}).items() if not holds(active.get(key, []), want)]
            wrong += ["no-tls"] if "no-tls" in active else []
            shown = "; ".join(f"{k}: {', '.join(str(v) if v is not None else '(flag)' for v in active.get(k, [])) or 'not set'}"
                              for k in wrong)
            results.append(self.check("turnserver.conf has TLS", not wrong,
                                      f"not as wanted: {shown}" if wrong else
                                      f"cert={config.turn.cert}, pkey={config.turn.key}, "
                                      f"tls-listening-port={config.turn.tls_port} and the ticked options are set",
                                      wrong=wrong))
        try:
            text = host.read_text(config.synapse.config)
            if text is None:
                raise HardstepError(f"{config.synapse.config} not found")
            current = load_plain(text, config.synapse.config).get("turn_uris")
        except HardstepError as exc:
            return results + [self.check("turn_uris announce turns:", False, str(exc))]
        wanted = turn_uris(config, plain_port(conf or ""))
        results.append(self.check("turn_uris announce turns:", current == wanted,
                                  f"turn_uris: {current}" + ("" if current == wanted else f", wanted {wanted}"),
                                  turn_uris=current))
        return results

    # --- certificate and key files --------------------------------------------------------
    def file_checks(self, host: "Host", config: "Config") -> list[CheckResult]:
        from app.net.tls import describe, key_matches, pem_certificates

        cert_path, key_path = config.turn.cert, config.turn.key
        try:
            pem = host.read_text(cert_path)
            key = host.read_text(key_path)
            found = host.stat(key_path) if key is not None else None
            mode = found.mode & 0o777 if found is not None else None
        except HardstepError as exc:
            return [self.check("certificate and key files", False, str(exc))]
        chain = pem_certificates(pem.encode()) if pem else []
        if not chain:
            cert = self.check("certificate file", False, f"{cert_path} " + ("is not a PEM certificate" if pem else "does not exist"))
        else:
            info = describe(chain[0])
            cert = self.check("certificate file", info.covers(config.turn.domain) and info.not_after > utcnow(),
                              f"{cert_path}: {_summary(info)}", names=list(info.names),
                              not_after=info.not_after.isoformat(), fingerprint=info.fingerprint)
        if mode is None:
            private = self.check("key not world-readable", False, f"{key_path} does not exist")
        else:
            private = self.check("key not world-readable", not mode & 0o004,
                                 f"{key_path} has mode {mode:04o}" + (f": others can read it; chmod 600 {key_path}"
                                                                       if mode & 0o004 else ""), mode=f"{mode:04o}")
        if not chain or key is None:
            pair = self.check("key matches certificate", False, "needs both files")
        else:
            ok = key_matches(chain[0], key.encode())
            pair = self.check("key matches certificate", ok, f"the key in {key_path} " +
                              ("belongs to" if ok else "does NOT belong to") + f" the certificate in {cert_path}")
        return [cert, private, pair]

    # --- live handshakes ------------------------------------------------------------------
    def live_checks(self, host: "Host", config: "Config") -> list[CheckResult]:
        from app.net.tls import TlsError, describe, fetch_certificate

        address, port = tls_target(config)
        domain = config.turn.domain
        name = "TLS handshake"
        try:
            der = fetch_certificate(address, port, domain)
        except TlsError as exc:
            return [self.check(name, False, f"{exc}: coTURN has no TLS listener there (are cert= and pkey= set and "
                               "readable in its container?)", address=f"{address}:{port}"), self.dtls_check(host, config)]
        info = describe(der)
        return [self.tls_check(host, name, (address, port), info, config), self.dtls_check(host, config)]

    def tls_check(self, host: "Host", name: str, target: tuple[str, int], info: "CertInfo",
                  config: "Config") -> CheckResult:
        from app.net.pins import trusted
        from app.net.tls import verify_chain

        address, port = target
        domain = config.turn.domain
        days = info.days_left(utcnow())
        evidence = {"address": f"{address}:{port}", "names": list(info.names), "issuer": info.issuer,
                    "not_after": info.not_after.isoformat(), "days_left": round(days, 1),
                    "fingerprint": info.fingerprint}
        if not info.covers(domain):
            return self.check(name, False, f"the certificate is for {', '.join(info.names) or '(no names)'}, "
                              f"not {domain} (expires {info.not_after:%Y-%m-%d})", **evidence)
        if days < 0:
            return self.check(name, False, f"the certificate for {domain} expired on {info.not_after:%Y-%m-%d}; "
                              "renew it (the acme step's renewal script)", **evidence)
        ca = config.turn.ca_file or None
        # The CA file is the host's; the handshake runs from here, so it gets the file's text.
        # Without one, the trust store and [checks] ca_file (app.net.pins) vouch.
        ca_pem = host.read_text(ca) if ca else None
        if ca and ca_pem is None:
            return self.check(name, False, f"{ca} does not exist; fix [turn] ca_file", **evidence)
        problem = verify_chain(address, port, domain, ca_pem=ca_pem)
        if problem:
            store = f"the CA in {config.turn.ca_file} ([turn] ca_file)" if ca else trusted()
            return self.check(name, False, f"the certificate for {domain} is not trusted by {store}: {problem}",
                              **evidence)
        detail = f"certificate {_summary(info)} ({days:.0f} days left)"
        if days < WARN_DAYS:
            evidence["warning"] = f"expires in {days:.0f} days"
            detail = f"warning: expires in {days:.0f} days, on {info.not_after:%Y-%m-%d}; renew it. {detail}"
        return self.check(name, True, detail, **evidence)

    def dtls_check(self, host: "Host", config: "Config") -> CheckResult:
        from app.net.dtls import dtls_certificate
        from app.net.tls import describe

        address, port = tls_target(config)
        name = "DTLS handshake"
        if not config.turn.dtls:
            return self.check(name, None, "skipped: DTLS is off in settings ([turn] dtls)")
        try:
            der, why = dtls_certificate(address, port, config.turn.domain)
        except FileNotFoundError:
            return self.check(name, None, "skipped: openssl is not installed on this machine (apt install openssl)")
        if der is None:
            return self.check(name, False, f"{why}: coturn 4.17.0 and later need 'dtls' in turnserver.conf, "
                              "older ones need cert= and pkey= and no 'no-dtls'", address=f"{address}:{port}")
        info = describe(der)
        ok = info.covers(config.turn.domain) and info.days_left(utcnow()) >= 0
        return self.check(name, ok, f"DTLS presents the certificate {_summary(info)}",
                          address=f"{address}:{port}", fingerprint=info.fingerprint)

    def serves_stale_certificate(self, host: "Host", config: "Config") -> bool:
        """True when coTURN's TLS listener presents another certificate than the file holds."""
        from app.net.tls import TlsError, fetch_certificate, pem_certificates

        pem = host.read_text(config.turn.cert)
        chain = pem_certificates(pem.encode()) if pem else []
        if not chain:
            return False
        address, port = tls_target(config)
        try:
            return fetch_certificate(address, port, config.turn.domain, timeout=5) != chain[0]
        except TlsError:
            return False
