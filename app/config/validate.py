"""Input validation: every value is checked here before it reaches a label, a file or a command."""

from __future__ import annotations

import re

# The patterns are plain strings: ``re`` compiles each on its first use and keeps it, so loading
# the settings compiles only what the file needs (compiling all at import costs the wizard's
# start-up a few milliseconds).

# RFC 1123 host names: labels of letters, digits and inner hyphens, at most 63 characters each.
_HOST_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
# Docker object names (containers, networks): what the engine itself accepts.
_DOCKER_NAME = r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}"
# The reference grammar of distribution/reference, reduced to what a user types:
# [registry[:port]/]path[:tag][@digest]
_IMAGE = (
    r"(?:(?P<registry>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)
# What certificate authorities accept as an account address; no quoting, no comments.
_EMAIL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?P<domain>[^@\s]+)"
_RELEASE = r"v[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?:-[A-Za-z0-9.]{1,32})?"
_URL = r"https?://(?P<host>\[[0-9a-fA-F:]+\]|[^/:\s]+)(?::(?P<port>[0-9]{1,5}))?(?P<path>/[^\s]*)?"
# A path (and query) without quotes, spaces, backslashes or shell expansions.
_PLAIN_PATH = r"/[A-Za-z0-9._~%/:@!&=+,;?-]*"


def is_hostname(value: str) -> bool:
    """A DNS host name with at least two labels (``turn.example.com``), no trailing dot."""
    if not isinstance(value, str) or len(value) > 253 or "." not in value:
        return False
    return all(re.fullmatch(_HOST_LABEL, label) for label in value.split("."))


def is_docker_name(value: str) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(_DOCKER_NAME, value))


def is_image_ref(value: str) -> bool:
    if not isinstance(value, str) or not value or len(value) > 255:
        return False
    match = re.fullmatch(_IMAGE, value)
    if not match:
        return False
    registry = match.group("registry")
    # "user/repo" has no registry: the first component only counts as one if it looks like a host.
    return registry is None or "." in registry or ":" in registry or registry == "localhost" or registry.islower()


def is_abs_path(value: str) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("/")
        and "\x00" not in value
        and "\n" not in value
        and ".." not in value.split("/")
    )


def is_url(value: str) -> bool:
    if not isinstance(value, str):
        return False
    match = re.fullmatch(_URL, value)
    if not match:
        return False
    host = match.group("host")
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return False
    return host.startswith("[") or host == "localhost" or is_hostname(host) or _is_ipv4(host)


def is_https_url(value: str) -> bool:
    """An ``https://`` URL with a plain path, whose host may also be a single label (a name
    Docker's DNS resolves, such as ``pebble``)."""
    match = re.fullmatch(_URL, value) if isinstance(value, str) and value.startswith("https://") else None
    if not match or (match.group("path") and not re.fullmatch(_PLAIN_PATH, match.group("path"))):
        return False
    port = match.group("port")
    return is_url(value) or (bool(re.fullmatch(_HOST_LABEL, match.group("host")))
                             and (port is None or 0 < int(port) < 65536))


def _is_ipv4(value: str) -> bool:
    parts = value.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


def is_email(value: str) -> bool:
    match = re.fullmatch(_EMAIL, value) if isinstance(value, str) else None
    return bool(match) and is_hostname(match.group("domain"))


def is_host_port(value: str) -> bool:
    """``host:port`` with a host name, IPv4 address, ``localhost`` or ``[v6]``, and a port."""
    if not isinstance(value, str):
        return False
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return False
    if host.startswith("[") and host.endswith("]"):
        return bool(re.fullmatch(r"[0-9a-fA-F:]+", host[1:-1]))
    return host == "localhost" or is_hostname(host) or _is_ipv4(host)


def is_ip(value: str) -> bool:
    """An IPv4 or IPv6 address literal (``203.0.113.7``, ``::1``), no brackets."""
    import ipaddress  # only a config with pinned names needs it

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def split_pin(entry: object) -> tuple[str, str]:
    """``"NAME=ADDRESS"`` (a ``[checks] resolve`` entry) -> ``(name, address)``, the name in lower
    case; ValueError saying what is wrong with it."""
    if not isinstance(entry, str):
        raise ValueError("that is not a string")
    name, equals, address = (part.strip() for part in entry.partition("="))
    if not equals:
        raise ValueError("without '='")
    if not is_hostname(name):
        raise ValueError(f"whose name {name!r} is not a host name")
    if not is_ip(address):
        raise ValueError(f"whose address {address!r} is not an IPv4 or IPv6 address")
    return name.lower(), address


def pin_problem(entries: list) -> str:
    """What is wrong with the first bad ``NAME=ADDRESS`` entry, empty when all are good."""
    for entry in entries:
        try:
            split_pin(entry)
        except ValueError as exc:
            return f"has entry {entry!r} {exc}; write NAME=ADDRESS such as matrix.example.com=203.0.113.7"
    return ""


def is_release(value: str) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(_RELEASE, value))


def split_image(image: str) -> tuple[str, str]:
    """``repo[:tag]`` -> ``(repo, tag)`` with ``latest`` as the default tag (digests kept whole)."""
    if "@" in image:
        return image, ""
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = image.rsplit(":", 1)
        return repo, tag
    return image, "latest"


def is_docker_endpoint(value: str) -> bool:
    """``unix:///abs/path`` or ``tcp://host:port``: what DOCKER_HOST takes for a local or remote engine."""
    if value.startswith("unix://"):
        return is_abs_path(value[len("unix://"):])
    return value.startswith("tcp://") and is_host_port(value[len("tcp://"):])
