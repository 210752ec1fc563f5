#!/usr/bin/env bash
# Boot script of the facepoints training instance. User data writes it to /opt/facepoints and runs
# `train-on-boot.sh install`, which schedules the max-hours power-off and installs a systemd unit that
# runs `train-on-boot.sh run` on this and every later boot (user data itself runs only on the first).
#
# `run`: schedules the power-off at the deadline fixed on first boot, starts JupyterLab if asked, pulls
# the trainer image and runs it until it succeeds, fails for good, or has failed FACEPOINTS_MAX_ATTEMPTS
# times, then powers the instance off (instance-initiated shutdown terminates it, so billing stops).
# Exit code 75 from the trainer means "interrupted, resume later": it is not counted as a failure.
# State kept under FACEPOINTS_STATE_DIR makes a reboot or a second boot resume, never start over.
#
# Settings (environment; user data writes them to /etc/facepoints/run.env):
#   FACEPOINTS_REGION FACEPOINTS_IMAGE FACEPOINTS_RUN_ID FACEPOINTS_PRESET FACEPOINTS_DATA_URI
#   FACEPOINTS_OUT_URI FACEPOINTS_LOG_GROUP FACEPOINTS_INSTANCE_TYPE FACEPOINTS_MAX_HOURS
#   FACEPOINTS_MAX_ATTEMPTS, and with FACEPOINTS_JUPYTER=true: FACEPOINTS_JUPYTER_IMAGE,
#   FACEPOINTS_JUPYTER_SECRET_ARN.
set -euo pipefail

readonly EXIT_INTERRUPTED=75
readonly EXIT_USAGE=64

STATE_DIR="${FACEPOINTS_STATE_DIR:-/var/lib/facepoints}"
SYSTEMD_DIR="${FACEPOINTS_SYSTEMD_DIR:-/etc/systemd/system}"
ENV_FILE="${FACEPOINTS_ENV_FILE:-/etc/facepoints/run.env}"
SELF="${FACEPOINTS_SELF:-/opt/facepoints/train-on-boot.sh}"
RETRY_DELAY_SECONDS="${FACEPOINTS_RETRY_DELAY_SECONDS:-60}"
RESUME_DELAY_SECONDS="${FACEPOINTS_RESUME_DELAY_SECONDS:-15}"
SYNC_SECONDS="${FACEPOINTS_SYNC_SECONDS:-300}"
# An interrupted run restarts at most this often per boot, so a trainer that keeps exiting 75 cannot
# keep a GPU busy until the max-hours deadline.
MAX_RESUMES="${FACEPOINTS_MAX_RESUMES:-10}"
readonly UNIT_NAME=facepoints-train.service
readonly TRAIN_CONTAINER=facepoints-train
readonly JUPYTER_CONTAINER=facepoints-jupyter

sync_pid=""
powering_off=false

log() {
  printf '%s facepoints-boot: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

require() {
  local name
  for name in "$@"; do
    if [[ -z "${!name:-}" ]]; then
      log "missing setting ${name} (expected in ${ENV_FILE})"
      return 1
    fi
  done
}

read_number() {
  local file="$1" value
  value="$(cat "$file" 2>/dev/null || true)"
  if [[ "$value" =~ ^[0-9]+$ ]]; then printf '%s' "$value"; else printf '0'; fi
}

# The deadline is fixed on first boot, so a reboot cannot extend the instance's life.
schedule_power_off() {
  require FACEPOINTS_MAX_HOURS
  mkdir -p "$STATE_DIR"
  local now deadline minutes
  now="$(date +%s)"
  if [[ ! -s "$STATE_DIR/deadline" ]]; then
    deadline="$(awk -v now="$now" -v hours="$FACEPOINTS_MAX_HOURS" 'BEGIN { printf "%d", now + hours * 3600 }')"
    printf '%s\n' "$deadline" >"$STATE_DIR/deadline"
  fi
  deadline="$(read_number "$STATE_DIR/deadline")"
  if ((deadline <= now)); then
    log "max-hours deadline passed; powering off"
    power_off
  fi
  minutes=$(((deadline - now + 59) / 60))
  shutdown -h "+${minutes}" "facepoints: max-hours limit (${FACEPOINTS_MAX_HOURS} h) reached"
  log "power-off scheduled in ${minutes} minutes"
}

power_off() {
  if [[ "$powering_off" == true ]]; then return 0; fi
  powering_off=true
  stop_sync
  log "powering off"
  shutdown -h now "facepoints: the run is over"
  exit 0
}

stop_sync() {
  if [[ -n "$sync_pid" ]]; then
    kill "$sync_pid" 2>/dev/null || true
    sync_pid=""
  fi
}

install_unit() {
  schedule_power_off
  mkdir -p "$SYSTEMD_DIR"
  cat >"$SYSTEMD_DIR/$UNIT_NAME" <<UNIT
[Unit]
Description=facepoints training run (powers the instance off when done)
Wants=network-online.target
After=network-online.target docker.service
Requires=docker.service

[Service]
Type=simple
EnvironmentFile=${ENV_FILE}
ExecStart=${SELF} run
# The trainer needs time to write a checkpoint after SIGTERM.
TimeoutStopSec=150

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable "$UNIT_NAME"
  systemctl start --no-block "$UNIT_NAME"
  log "installed and started ${UNIT_NAME}"
}

ecr_login_and_pull() {
  local registry="${FACEPOINTS_IMAGE%%/*}" attempt
  for attempt in 1 2 3; do
    if aws ecr get-login-password --region "$FACEPOINTS_REGION" |
      docker login --username AWS --password-stdin "$registry" >/dev/null &&
      docker pull --quiet "$FACEPOINTS_IMAGE" >/dev/null; then
      return 0
    fi
    log "pulling ${FACEPOINTS_IMAGE} failed (attempt ${attempt} of 3)"
    sleep "$RETRY_DELAY_SECONDS"
  done
  return 1
}

start_jupyter() {
  require FACEPOINTS_JUPYTER_IMAGE FACEPOINTS_JUPYTER_SECRET_ARN
  local view="$STATE_DIR/run-view" token
  mkdir -p "$view"
  # The token stays in this process's environment: never on a command line, in user data or in a log.
  # Checked explicitly: `set -e` does not apply here (the caller handles failure), and an empty token
  # would start JupyterLab without authentication.
  token="$(aws secretsmanager get-secret-value --region "$FACEPOINTS_REGION" \
    --secret-id "$FACEPOINTS_JUPYTER_SECRET_ARN" --query SecretString --output text)" || return 1
  if [[ -z "$token" || "$token" == None ]]; then
    log "the JupyterLab token secret is empty"
    return 1
  fi
  docker rm -f "$JUPYTER_CONTAINER" >/dev/null 2>&1 || true
  JUPYTER_TOKEN="$token" docker run --detach --name "$JUPYTER_CONTAINER" --restart unless-stopped \
    --publish 8888:8888 --env JUPYTER_TOKEN \
    --volume "${view}:/home/jovyan/run:ro" \
    "$FACEPOINTS_JUPYTER_IMAGE" >/dev/null || return 1
  # The trainer writes to S3; a periodic copy gives the notebook a read-only view of the run directory.
  (
    while true; do
      aws s3 sync --only-show-errors "${FACEPOINTS_OUT_URI}/${FACEPOINTS_RUN_ID}/" "$view/" || true
      sleep "$SYNC_SECONDS"
    done
  ) &
  sync_pid=$!
  log "JupyterLab started on port 8888"
}

run_trainer() {
  local attempt="$1"
  docker rm -f "$TRAIN_CONTAINER" >/dev/null 2>&1 || true
  docker run --rm --name "$TRAIN_CONTAINER" --gpus all --stop-timeout 120 \
    --log-driver awslogs \
    --log-opt "awslogs-region=${FACEPOINTS_REGION}" \
    --log-opt "awslogs-group=${FACEPOINTS_LOG_GROUP}" \
    --log-opt "awslogs-stream=${FACEPOINTS_RUN_ID}/attempt-${attempt}" \
    --log-opt awslogs-create-group=false \
    --env "AWS_REGION=${FACEPOINTS_REGION}" \
    --env FACEPOINTS_ON_EC2=1 \
    --env "FACEPOINTS_INSTANCE_TYPE=${FACEPOINTS_INSTANCE_TYPE}" \
    "$FACEPOINTS_IMAGE" \
    train --data "$FACEPOINTS_DATA_URI" --out "$FACEPOINTS_OUT_URI" --run "$FACEPOINTS_RUN_ID" \
    --preset "$FACEPOINTS_PRESET" --require-gpu
}

on_exit() {
  local code=$?
  # Any unexpected error still ends in a power-off: an idle GPU instance is the costly failure.
  if [[ "$powering_off" != true && $code -ne 0 ]]; then
    log "boot script failed (exit ${code})"
    power_off
  fi
}

on_term() {
  trap - EXIT
  stop_sync
  log "stopped by SIGTERM (reboot or shutdown); the next boot resumes run ${FACEPOINTS_RUN_ID}"
  exit 143
}

run() {
  trap on_exit EXIT
  trap on_term TERM
  schedule_power_off
  require FACEPOINTS_REGION FACEPOINTS_IMAGE FACEPOINTS_RUN_ID FACEPOINTS_PRESET FACEPOINTS_DATA_URI \
    FACEPOINTS_OUT_URI FACEPOINTS_LOG_GROUP FACEPOINTS_INSTANCE_TYPE FACEPOINTS_MAX_ATTEMPTS

  if [[ -f "$STATE_DIR/finished" ]]; then
    log "run ${FACEPOINTS_RUN_ID} already finished ($(cat "$STATE_DIR/finished")); nothing to do"
    power_off
  fi
  local failures resumes=0 attempt code
  failures="$(read_number "$STATE_DIR/failures")"
  if ((failures >= FACEPOINTS_MAX_ATTEMPTS)); then
    printf 'gave up after %s failures\n' "$failures" >"$STATE_DIR/finished"
    power_off
  fi

  if [[ "${FACEPOINTS_JUPYTER:-false}" == true ]]; then
    start_jupyter || log "JupyterLab did not start; training goes on without it"
  fi
  ecr_login_and_pull

  while ((failures < FACEPOINTS_MAX_ATTEMPTS)); do
    attempt="$(($(read_number "$STATE_DIR/attempts") + 1))"
    printf '%s\n' "$attempt" >"$STATE_DIR/attempts"
    log "starting run ${FACEPOINTS_RUN_ID} (attempt ${attempt}, ${failures} failures so far)"
    code=0
    run_trainer "$attempt" || code=$?
    case "$code" in
      0)
        printf 'succeeded\n' >"$STATE_DIR/finished"
        log "run ${FACEPOINTS_RUN_ID} succeeded"
        break
        ;;
      "$EXIT_INTERRUPTED")
        resumes=$((resumes + 1))
        if ((resumes > MAX_RESUMES)); then
          log "interrupted ${resumes} times on this boot; giving up (deploy again with -c runId=${FACEPOINTS_RUN_ID} to resume)"
          break
        fi
        log "trainer interrupted (exit ${code}); resuming in ${RESUME_DELAY_SECONDS} s"
        sleep "$RESUME_DELAY_SECONDS"
        ;;
      "$EXIT_USAGE")
        printf 'failed: bad configuration or data (exit %s)\n' "$code" >"$STATE_DIR/finished"
        log "trainer rejected its configuration or data (exit ${code}); retrying cannot help"
        break
        ;;
      *)
        failures=$((failures + 1))
        printf '%s\n' "$failures" >"$STATE_DIR/failures"
        if ((failures >= FACEPOINTS_MAX_ATTEMPTS)); then
          printf 'failed after %s attempts (last exit %s)\n' "$failures" "$code" >"$STATE_DIR/finished"
          log "trainer failed (exit ${code}); giving up after ${failures} failures"
          break
        fi
        log "trainer failed (exit ${code}); retrying in ${RETRY_DELAY_SECONDS} s"
        sleep "$RETRY_DELAY_SECONDS"
        ;;
    esac
  done
  power_off
}

main() {
  case "${1:-}" in
    install) install_unit ;;
    run) run ;;
    *)
      log "usage: $0 install|run (found: ${1:-nothing})"
      exit "$EXIT_USAGE"
      ;;
  esac
}

main "$@"
