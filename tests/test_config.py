"""Settings: defaults from the reference, validation that names the key, comment-keeping saves."""

import pytest

from app.config.settings import Config, check_value, load_config, render_config, save_config
from app.errors import ConfigError


def test_defaults_follow_the_reference(tmp_path):
    config = load_config(tmp_path / "missing.toml")
    assert not config.exists
    assert config.docker.private_network == "private"
    assert config.docker.socket_proxy_container == "dockerproxy"
    assert config.docker.socket_proxy_image == "tecnativa/docker-socket-proxy:latest"
    assert config.docker.probe_image == "alpine:latest"
    assert config.traefik.container == "proxy"
    assert config.traefik.config == "/opt/traefik/traefik.toml"
    assert config.traefik.web_network == "web"
    assert config.synapse.config == "/opt/matrix/synapse/homeserver.yaml"
    assert config.synapse.url == "https://matrix.example.com"
    assert config.turn.domain == "turn.matrix.example.com"
    assert config.turn.certs_dir == "/opt/certs"


@pytest.mark.parametrize("section,key,value,words", [
    ("turn", "domain", "turn..example.com", "[turn] domain"),
    ("turn", "domain", "turn example.com", "host name"),
    ("synapse", "server_name", "-bad.example.com", "[synapse] server_name"),
    ("traefik", "config", "opt/traefik/traefik.toml", "absolute path"),
    ("turn", "certs_dir", "/opt/../etc", "[turn] certs_dir"),
    ("docker", "socket_proxy_image", "Tecnativa/Proxy:latest", "image reference"),
    ("docker", "probe_image", "alpine:", "[docker] probe_image"),
    ("docker", "private_network", "my net", "Docker name"),
    ("synapse", "url", "matrix.example.com", "URL"),
])
def test_invalid_values_are_refused_naming_the_key(section, key, value, words):
    with pytest.raises(ConfigError) as caught:
        check_value(section, key, value)
    assert words in str(caught.value)
    assert key in str(caught.value)


@pytest.mark.parametrize("image", ["alpine", "alpine:3.20", "tecnativa/docker-socket-proxy:latest",
                                   "localhost:5000/team/app:v1", "ghcr.io/org/app@sha256:" + "a" * 64])
def test_valid_images_pass(image):
    assert check_value("docker", "probe_image", image) == image


def test_unknown_key_and_bad_type_are_refused(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[docker]\nprivate_netwrok = "x"\n')
    with pytest.raises(ConfigError, match=r"\[docker\] private_netwrok"):
        load_config(path)
    path.write_text('[docker]\nprivate_network = 3\n')
    with pytest.raises(ConfigError, match=r"\[docker\] private_network must be a string"):
        load_config(path)


def test_malformed_toml_names_the_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[docker]\nprivate_network = "x\n')
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 2"):
        load_config(path)


def test_save_keeps_comments_and_only_changes_values(tmp_path):
    path = tmp_path / "config.toml"
    original = '# my notes\n[docker]\n# the network\nprivate_network = "priv"   # inline\n'
    path.write_text(original)
    config = load_config(path).with_value("docker", "probe_image", "busybox:1.36")
    save_config(config, path)
    text = path.read_text()
    assert text.startswith(original)
    assert 'probe_image = "busybox:1.36"' in text
    assert load_config(path).docker.private_network == "priv"
    assert oct(path.stat().st_mode & 0o777) == "0o644" or path.stat().st_mode & 0o777 == 0o644


def test_new_config_file_documents_every_key(tmp_path):
    text = render_config(Config())
    assert "Traefik's static configuration file" in text
    assert load_config_text(tmp_path, text).to_dict() == Config().to_dict()


def load_config_text(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return load_config(path)
