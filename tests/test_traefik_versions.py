"""Docker 29 needs Traefik v2.11.31 or later (FACTS): the warning and the check that carry it."""

import pytest

from app.shared.traefik import engine_breaks_traefik, traefik_version


@pytest.mark.parametrize("image,version", [
    ("traefik:v2.2", (2, 2, 0)), ("traefik:v2.11.31", (2, 11, 31)), ("traefik:2.10.7", (2, 10, 7)),
    ("docker.io/library/traefik:v2.11.30-alpine", (2, 11, 30)), ("traefik:latest", None), ("traefik", None),
    ("localhost:5000/traefik:v3.1", (3, 1, 0)),
])
def test_versions_are_read_from_the_tag(image, version):
    assert traefik_version(image) == version


@pytest.mark.parametrize("engine,image,breaks", [
    ("29.0.1", "traefik:v2.2", True), ("29.0.1", "traefik:v2.11.30", True),
    ("29.0.1", "traefik:v2.11.31", False), ("29.1.0", "traefik:v3.1", False),
    ("28.5.2", "traefik:v2.2", False), ("20.10.24+dfsg1", "traefik:v2.2", False),
    ("29.0.1", "traefik:latest", False),
])
def test_known_breakage(engine, image, breaks):
    reason = engine_breaks_traefik(engine, image)
    assert bool(reason) is breaks
    if breaks:
        assert "client version 1.24 is too old" in reason and "v2.11.31" in reason
