#!/usr/bin/env bash
# Make sure a Docker engine answers on its API; start dockerd in the background if not.
#
# Idempotent: when the engine already answers it only prints its version. Talks to the
# engine's HTTP API with curl over the unix socket (no docker CLI). dockerd's output goes
# to /var/log/hardstep-dockerd.log. Waits up to ENGINE_WAIT seconds (default 60).
set -euo pipefail

LOG=/var/log/hardstep-dockerd.log
WAIT="${ENGINE_WAIT:-60}"

# Honour DOCKER_HOST=unix://... like the Docker SDK does; default socket otherwise.
SOCK=/var/run/docker.sock
case "${DOCKER_HOST:-}" in
  unix://*) SOCK="${DOCKER_HOST#unix://}" ;;
  "") ;;
  *) echo "ensure_engine: DOCKER_HOST=$DOCKER_HOST is not a unix socket; not managing it" >&2 ;;
esac

api() {  # api PATH: GET from the engine API, prints the body
  case "${DOCKER_HOST:-}" in
    tcp://*) curl -fsS --max-time 5 "http://${DOCKER_HOST#tcp://}$1" ;;
    *) curl -fsS --max-time 5 --unix-socket "$SOCK" "http://localhost$1" ;;
  esac
}

answers() { [ "$(api /_ping 2>/dev/null || true)" = "OK" ]; }

print_version() {
  local v
  v="$(api /version)"
  echo "ensure_engine: Docker engine up: version $(sed -n 's/.*"Version":"\([^"]*\)".*/\1/p' <<<"$v" | head -n1)," \
       "API $(sed -n 's/.*"ApiVersion":"\([^"]*\)".*/\1/p' <<<"$v" | head -n1)"
}

if answers; then
  print_version
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "$SOCK" != /var/run/docker.sock ] || [[ "${DOCKER_HOST:-}" == tcp://* ]]; then
  # Only the default engine is ours to start; a custom DOCKER_HOST is someone else's.
  echo "ensure_engine: engine at DOCKER_HOST=$DOCKER_HOST does not answer" >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure_engine: dockerd is not installed (run 'make setup')" >&2
  exit 1
fi

# A dockerd that is still starting has written its pidfile: wait for it instead of starting a second.
running=""
if [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  running="$(cat /var/run/docker.pid)"
  echo "ensure_engine: dockerd (pid $running) is running but not answering yet; waiting"
else
  # Without systemd nothing may have mounted the cgroup hierarchies dockerd needs.
  if ! grep -q ' /sys/fs/cgroup' /proc/mounts && command -v cgroupfs-mount >/dev/null 2>&1; then
    echo "ensure_engine: mounting cgroups (cgroupfs-mount)"
    cgroupfs-mount || true
  fi
  echo "ensure_engine: starting dockerd in the background (log: $LOG)"
  # setsid + nohup: dockerd outlives make and the CI script's shell.
  setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
  running=$!
fi

for ((i = 0; i < WAIT * 2; i++)); do
  if answers; then
    print_version
    exit 0
  fi
  if ! kill -0 "$running" 2>/dev/null; then
    # The process we started or waited for is gone; a pidfile may name a new one.
    if [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
      running="$(cat /var/run/docker.pid)"
    else
      echo "ensure_engine: dockerd exited; last lines of $LOG:" >&2
      tail -n 30 "$LOG" >&2 || true
      exit 1
    fi
  fi
  sleep 0.5
done

echo "ensure_engine: the engine did not answer within ${WAIT}s; last lines of $LOG:" >&2
tail -n 30 "$LOG" >&2 || true
exit 1
