"""The container sandbox: profile (what a sandboxed container looks like), probes (proof from
inside it), actions (live limit updates) and the seccomp and AppArmor profiles hardstep ships."""
