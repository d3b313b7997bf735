"""The settings the daemon step reads (``config.toml``), with their defaults and kinds."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("docker", "daemon_config", "/etc/docker/daemon.json", "abspath", "The Docker engine's daemon.json."),
    Field("docker", "restart_command", [], "argv",
          "Command that restarts the engine; empty: systemd or BurmillaOS, detected."),
    Field("docker", "restart_timeout", 120, "seconds", "How long to wait for the engine after a restart."),
    Field("docker", "seccomp_profile", "/etc/docker/seccomp-hardstep.json", "abspath",
          "Where the daemon step installs hardstep's seccomp profile for daemon.json."),
    Field("docker", "log_max_size", "10m", "size", "json-file log rotation: size of one log file."),
    Field("docker", "log_max_file", 3, "count", "json-file log rotation: log files kept per container."),
    Field("docker", "userns_remap", False, "bool", "Plan item: userns-remap (read its consequences first)."),)
