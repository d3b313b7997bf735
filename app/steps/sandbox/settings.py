"""The settings the sandbox step reads (``config.toml``), with their defaults and kinds."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("sandbox", "containers", [], "names", "Containers that get the sandbox (the picker writes this)."),
    Field("sandbox", "memory", "256m", "memory", "Memory limit of a sandboxed container; swap is set equal (no swap)."),
    Field("sandbox", "pids_limit", 50, "count", "Most processes a sandboxed container may run."),
    Field("sandbox", "cpus", 1.0, "cpus", "CPUs a sandboxed container may use."),
    Field("sandbox", "data_memory", "1g", "memory", "Memory limit instead for a database or Synapse."),
    Field("sandbox", "tmp_size", "64m", "size", "Size of the tmpfs on /tmp (rw,noexec,nosuid)."),
    Field("sandbox", "run_size", "32m", "size", "Size of the tmpfs on /run (rw,noexec,nosuid)."),
    Field("sandbox", "isolated", [], "names",
          "Sandboxed containers that need no peers: moved onto the restricted network alone."),
    Field("sandbox", "restricted_network", "restricted", "name",
          "Network with inter-container traffic off (enable_icc=false) for the isolated containers."),
)
