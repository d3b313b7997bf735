"""The Docker daemon: what hardstep wants in daemon.json, what the running engine really does
(``facts``), and how the engine is restarted (``actions``)."""
