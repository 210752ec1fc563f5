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
# The trainer image's user (docker/Dockerfile): it owns the scratch directory.
readonly TRAINER_UID=10001

STATE_DIR="${FACEPOINTS_STATE_DIR:-/var/lib/facepoints}"
SYSTEMD_DIR="${FACEPOINTS_SYSTEMD_DIR:-/etc/systemd/system}"
ENV_FILE="${FACEPOINTS_ENV_FILE:-/etc/facepoints/run.env}"
SELF="${FACEPOINTS_SELF:-/opt/facepoints/train-on-boot.sh}"
RETRY_DELAY_SECONDS="${FACEPOINTS_RETRY_DELAY_SECONDS:-60}"
RESUME_DELAY_SECONDS="${FACEPOINTS_RESUME_DELAY_SECONDS:-15}"
SYNC_SECONDS="${FACEPOINTS_SYNC_SECONDS:-300}"
# Scratch space of the trainer (data cache, CUDA's kernel cache): the instance's NVMe store when it has
# one (g4dn, g5), else a folder on the root volume. Mounted into the container at /scratch.
SCRATCH_DIR="${FACEPOINTS_HOST_SCRATCH_DIR:-/mnt/facepoints-scratch}"
INSTANCE_STORE_GLOB="${FACEPOINTS_INSTANCE_STORE_GLOB:-/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*}"
# libtensorflow 2.9.1 has no sm_86 code: on g5 the driver JIT-compiles its PTX at every start unless the
# cache persists and is large enough; 4 GiB is CUDA's maximum (CUDA_CACHE_MAXSIZE, CUDA C Programming Guide).
readonly CUDA_CACHE_BYTES=4294967296
# An interrupted run restarts at most this often per boot, so a trainer that keeps exiting 75 cannot
# keep a GPU busy until the max-hours deadline.
MAX_RESUMES="${FACEPOINTS_MAX_RESUMES:-10}"
readonly UNIT_NAME=facepoints-train.service
readonly TRAIN_CONTAINER=facepoints-train
readonly JUPYTER_CONTAINER=facepoints-jupyter

sync_pid=""
powering_off=false
# The boot step in progress; a failure is reported under this name.
step="settings"

log() {
  local line
  line="$(printf '%s facepoints-boot: %s' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*")"
  printf '%s\n' "$line" >&2
  # Kept for the failure report: the journal dies with the instance.
  if [[ -d "$STATE_DIR" ]]; then printf '%s\n' "$line" >>"$STATE_DIR/boot.log" 2>/dev/null || true; fi
}

# JSON string of the argument (python3 ships with the Ubuntu AMI; no jq there).
json_string() {
  python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"
}

# A boot step failed: the run's status.json says so (state failed, the step, the last log lines) and the
# log group gets the same lines, so `facepoints status` and `facepoints logs` show why after power-off.
report_failure() {
  local reason="$1" lines now status_json
  lines="$(tail -n 20 "$STATE_DIR/boot.log" 2>/dev/null || true)"
  now="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
  status_json="$(printf '{"runId":%s,"state":"failed","phase":%s,"model":null,"epoch":null,"maxEpochs":null,"bestDevRmsePx":null,"imagesPerSecond":null,"etaPhaseSeconds":null,"etaRunSeconds":null,"backend":null,"gpuName":null,"instanceType":%s,"startedAt":"%s","updatedAt":"%s","lastCheckpointAt":null,"finishedAt":"%s","error":%s,"interruption":null}' \
    "$(json_string "${FACEPOINTS_RUN_ID:-unknown}")" "$(json_string "boot: ${step}")" \
    "$(json_string "${FACEPOINTS_INSTANCE_TYPE:-unknown}")" "$now" "$now" "$now" \
    "$(json_string "boot step ${step} failed: ${reason}"$'\n'"${lines}")")"
  if [[ -n "${FACEPOINTS_OUT_URI:-}" && -n "${FACEPOINTS_RUN_ID:-}" ]]; then
    printf '%s\n' "$status_json" |
      aws s3 cp --only-show-errors --content-type application/json - "${FACEPOINTS_OUT_URI}/${FACEPOINTS_RUN_ID}/status.json" ||
      log "could not write the failure to ${FACEPOINTS_OUT_URI}/${FACEPOINTS_RUN_ID}/status.json"
  fi
  if [[ -n "${FACEPOINTS_LOG_GROUP:-}" && -n "${FACEPOINTS_REGION:-}" ]]; then
    local stream message
    stream="${FACEPOINTS_RUN_ID:-unknown}/boot-$(date -u +%Y%m%dT%H%M%SZ)"
    message="boot step ${step} failed: ${reason}"$'\n'"${lines}"
    if ! aws logs create-log-stream --region "$FACEPOINTS_REGION" --log-group-name "$FACEPOINTS_LOG_GROUP" --log-stream-name "$stream" ||
      ! aws logs put-log-events --region "$FACEPOINTS_REGION" --log-group-name "$FACEPOINTS_LOG_GROUP" --log-stream-name "$stream" \
        --log-events "[{\"timestamp\":$(($(date +%s) * 1000)),\"message\":$(json_string "$message")}]" >/dev/null; then
      log "could not write the failure to log group ${FACEPOINTS_LOG_GROUP}"
    fi
  fi
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

# The instance store is blank on every new instance (and after a stop); a reboot keeps its file system.
prepare_scratch() {
  step="scratch"
  mkdir -p "$SCRATCH_DIR"
  local device
  for device in $INSTANCE_STORE_GLOB; do
    [[ -e "$device" ]] || continue
    if ! mountpoint -q "$SCRATCH_DIR"; then
      if ! blkid "$device" >/dev/null 2>&1; then mkfs.ext4 -q -F "$device" >>"$STATE_DIR/boot.log" 2>&1; fi
      mount "$device" "$SCRATCH_DIR" >>"$STATE_DIR/boot.log" 2>&1
      log "scratch: instance store ${device} mounted at ${SCRATCH_DIR}"
    fi
    break
  done
  mkdir -p "$SCRATCH_DIR/cuda-cache"
  chown -R "${TRAINER_UID}:${TRAINER_UID}" "$SCRATCH_DIR"
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
  step="image-pull"
  local registry="${FACEPOINTS_IMAGE%%/*}" attempt
  for attempt in 1 2 3; do
    if aws ecr get-login-password --region "$FACEPOINTS_REGION" 2>>"$STATE_DIR/boot.log" |
      docker login --username AWS --password-stdin "$registry" >/dev/null 2>>"$STATE_DIR/boot.log" &&
      docker pull --quiet "$FACEPOINTS_IMAGE" >/dev/null 2>>"$STATE_DIR/boot.log"; then
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
    --volume "${SCRATCH_DIR}:/scratch" \
    --env FACEPOINTS_SCRATCH_DIR=/scratch \
    --env CUDA_CACHE_PATH=/scratch/cuda-cache \
    --env "CUDA_CACHE_MAXSIZE=${CUDA_CACHE_BYTES}" \
    "$FACEPOINTS_IMAGE" \
    train --data "$FACEPOINTS_DATA_URI" --out "$FACEPOINTS_OUT_URI" --run "$FACEPOINTS_RUN_ID" \
    --preset "$FACEPOINTS_PRESET" --require-gpu
}

# IMDSv2: 200 on spot/instance-action once EC2 has scheduled this spot instance's reclaim.
spot_reclaim_pending() {
  local endpoint="${FACEPOINTS_IMDS_ENDPOINT:-http://169.254.169.254}" token
  token="$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "${endpoint}/latest/api/token" 2>/dev/null)" || return 1
  curl -sf -o /dev/null -H "X-aws-ec2-metadata-token: ${token}" "${endpoint}/latest/meta-data/spot/instance-action" 2>/dev/null
}

on_exit() {
  local code=$?
  # Any unexpected error still ends in a power-off: an idle GPU instance is the costly failure.
  if [[ "$powering_off" != true && $code -ne 0 ]]; then
    log "boot script failed (exit ${code})"
    report_failure "exit ${code}"
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
  prepare_scratch
  ecr_login_and_pull
  step="train"

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
        # A spot instance with a reclaim notice is gone in two minutes: restarting here would lose the
        # resume to the reclaim; the next deploy with the same run id resumes from the checkpoint instead.
        if spot_reclaim_pending; then
          log "spot reclaim notice: not restarting the trainer on this instance (deploy again with -c runId=${FACEPOINTS_RUN_ID} to resume)"
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
          # Exit codes above 125 are Docker's or a signal's: the trainer itself may have written nothing.
          if ((code >= 125)); then report_failure "the trainer container exited ${code} ${failures} times"; fi
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
