#!/usr/bin/env bash
# Builds the real Dockerfile, runs the image (read-only root, non-root, /data on a volume), waits for its
# HEALTHCHECK (`aap health --ready`) to report healthy, asks /health/ready from the host, prints the image size
# and removes what it started. Lints the Dockerfile (npx dockerfile-utils) and validates compose.yaml (docker-compose,
# or the compose plugin); both are required.
#
# Where no image registry is reachable, the base images named by the Dockerfile are built locally under those
# exact names first (see docs/deployment.md#building-without-a-registry): Debian from its own mirror
# (debootstrap), the SDK and a chiseled-like ASP.NET runtime from this machine's .NET installation.
#
# Usage: scripts/image-check.sh [--no-build] [--compose] [image tag, default aap:check]
#   --no-build checks an image already built under that tag (CI builds it with buildx first).
#   --compose then starts compose.yaml's two nodes behind the proxy with PostgreSQL, Redis, S3 and Prometheus and
#     checks them from outside: sign up, sign in, upload and read back through the proxy, both nodes answering,
#     forwarded client addresses honoured; the bootstrap admin's app completed on one node and its points read on the
#     other; redis Healthy on both; Prometheus scraping both with the metrics token. Where no registry answers,
#     PostgreSQL, nginx, Redis and Prometheus are local Debian builds under the compose file's image names, and MinIO
#     is moto (this machine's installation on Debian's python3), or a placeholder without moto: the nodes then share
#     a local-store volume instead of S3. One line per part is printed (image:, lint:, rewards:, redis:, compose:,
#     prometheus:); everything started is removed at exit, even on failure or SIGTERM (see cleanup).
# Needs: docker (engine reachable, or dockerd installed and root to start one), npx, docker-compose or the compose
# plugin, python3, curl, and without a registry also
# debootstrap and the .NET 10 SDK under /usr/share/dotnet.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=1
compose=0
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --no-build) build=0 ;;
    --compose) compose=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
tag="${1:-aap:check}"
work="$(mktemp -d -t aap-image-XXXXXX)"
dockerd_pid=""
container=""
volume="aap-check-$$"
sdk_image="mcr.microsoft.com/dotnet/sdk:10.0"
runtime_image="mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra"
dotnet_root="${DOTNET_ROOT:-/usr/share/dotnet}"
# The engine's own client works with the classic builder and no buildx plugin.
docker_bin="$(command -v /usr/bin/docker || command -v docker)"
export DOCKER_BUILDKIT=0

log() { printf 'image-check: %s\n' "$*" >&2; }
docker() { "$docker_bin" "$@"; }

# Whatever happens (failure, Ctrl-C, SIGTERM from a test's timeout), what this run started goes: its container and
# volume, its compose project with its volumes and network, and the engine if it started one. Only SIGKILL skips
# this; the next run then sweeps what was left (sweep_leftovers) and adopts an engine left running.
cleanup() {
  local status=${1:-$?}
  trap - EXIT
  trap '' INT TERM # a second signal does not cut the clean-up short
  [[ -n "$container" ]] && docker rm -f "$container" >/dev/null 2>&1 || true
  if [[ -n "${compose_up:-}" ]]; then
    compose_cmd down -v --remove-orphans >/dev/null 2>&1 || true
    docker volume rm -f "${project}_files" >/dev/null 2>&1 || true
  fi
  docker volume rm -f "$volume" >/dev/null 2>&1 || true
  if [[ -n "$dockerd_pid" ]]; then
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || tail --pid="$dockerd_pid" -f /dev/null 2>/dev/null || true
    rm -f "$dockerd_file"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'cleanup 130' INT
trap 'cleanup 143' TERM

# An engine this script started is recorded here (its pid and the script's), so that one left by a killed run is
# adopted and stopped by the next.
dockerd_file="${TMPDIR:-/tmp}/aap-image-check-dockerd"
ensure_engine() {
  local pid owner
  if read -r pid owner 2>/dev/null <"$dockerd_file" && ! kill -0 "$owner" 2>/dev/null; then
    if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]]; then
      log "adopting the engine a stopped run left (pid $pid)"
      dockerd_pid=$pid
      echo "$dockerd_pid $$" >"$dockerd_file"
    else
      rm -f "$dockerd_file"
    fi
  fi
  docker info >/dev/null 2>&1 && return 0
  command -v dockerd >/dev/null && [[ "$(id -u)" == 0 ]] || { log "no Docker engine reachable"; return 1; }
  log "starting dockerd"
  # In a session of its own: a signal to this script's process group must not stop the engine before the clean-up.
  setsid dockerd >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  echo "$dockerd_pid $$" >"$dockerd_file"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  cat "$work/dockerd.log" >&2
  return 1
}

# Removes the containers, networks and volumes of runs that were killed before their clean-up: those labelled with
# the pid of a script that no longer runs (aap.image-check=PID, compose project aapcheckPID).
sweep_leftovers() {
  local owner kind label
  for owner in $( {
    docker ps -a --format '{{.Label "aap.image-check"}}'
    docker volume ls --format '{{.Label "aap.image-check"}}'
    docker ps -a --format '{{.Label "com.docker.compose.project"}}'
    docker volume ls --format '{{.Label "com.docker.compose.project"}}'
    docker network ls --format '{{.Label "com.docker.compose.project"}}'
  } 2>/dev/null | sed -n 's/^\(aapcheck\)\{0,1\}\([0-9][0-9]*\)$/\2/p' | sort -u); do
    [[ "$owner" != "$$" ]] && ! kill -0 "$owner" 2>/dev/null || continue
    log "removing what a run that was killed (pid $owner) left"
    for label in "aap.image-check=$owner" "com.docker.compose.project=aapcheck$owner"; do
      docker ps -aq --filter "label=$label" | xargs -r "$docker_bin" rm -f >/dev/null 2>&1 || true
      docker network ls -q --filter "label=$label" | xargs -r "$docker_bin" network rm >/dev/null 2>&1 || true
      docker volume ls -q --filter "label=$label" | xargs -r "$docker_bin" volume rm -f >/dev/null 2>&1 || true
    done
    docker volume rm -f "aap-check-$owner" "aapcheck${owner}_files" >/dev/null 2>&1 || true
  done
}

have_image() { docker image inspect "$1" >/dev/null 2>&1 || docker pull "$1" >/dev/null 2>&1; }

debian_base() {
  have_image local/debian:bookworm && return 0
  local mirror
  mirror="$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)"
  log "debootstrap bookworm from ${mirror:=http://deb.debian.org/debian}"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1
  tar -C "$work/rootfs" -c . | docker import - local/debian:bookworm >/dev/null
  rm -rf "$work/rootfs"
}

# The SDK: Debian with the runtime's native dependencies and this machine's .NET SDK.
sdk_stand_in() {
  log "building a stand-in for $sdk_image"
  cp /etc/ssl/certs/ca-certificates.crt "$dotnet_root/.aap-ca.crt" 2>/dev/null || true
  docker build -q -t "$sdk_image" -f - "$dotnet_root" >/dev/null <<'DOCKERFILE'
FROM local/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libicu72 libssl3 ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*
COPY dotnet /usr/share/dotnet/dotnet
COPY host /usr/share/dotnet/host
COPY shared /usr/share/dotnet/shared
COPY sdk /usr/share/dotnet/sdk
COPY sdk-manifests /usr/share/dotnet/sdk-manifests
COPY packs /usr/share/dotnet/packs
COPY .aap-ca.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_ROOT=/usr/share/dotnet NUGET_CERT_REVOCATION_MODE=offline ASPNETCORE_HTTP_PORTS=8080 DOTNET_RUNNING_IN_CONTAINER=true
DOCKERFILE
  rm -f "$dotnet_root/.aap-ca.crt"
}

# The chiseled runtime: no shell, no package manager; glibc, libstdc++, ICU, OpenSSL, zlib, tzdata, CA certificates,
# the .NET and ASP.NET Core runtimes, and the user app (1654), as Microsoft's chiseled-extra images have.
runtime_stand_in() {
  log "building a stand-in for $runtime_image"
  docker build -q -t "$runtime_image" -f - "$dotnet_root" >/dev/null <<'DOCKERFILE'
FROM local/debian:bookworm AS libs
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libicu72 libssl3 ca-certificates tzdata zlib1g >/dev/null
RUN mkdir -p /out/lib/x86_64-linux-gnu /out/lib64 /out/etc /out/tmp /out/usr/share /out/etc/ssl \
 && cd /lib/x86_64-linux-gnu \
 && cp -a libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1 libstdc++.so.6* libz.so.1* libssl.so.3 libcrypto.so.3 libicu*.so.72* /out/lib/x86_64-linux-gnu/ \
 && cp -L /lib64/ld-linux-x86-64.so.2 /out/lib64/ \
 && cp -a /usr/share/zoneinfo /out/usr/share/ && cp -aL /etc/ssl/certs /out/etc/ssl/ \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:1654:1654:app:/home/app:/sbin/nologin\n' > /out/etc/passwd \
 && printf 'root:x:0:\napp:x:1654:\n' > /out/etc/group && chmod 1777 /out/tmp
FROM scratch
COPY --from=libs /out/ /
COPY dotnet /usr/share/dotnet/dotnet
COPY host /usr/share/dotnet/host
COPY shared/Microsoft.NETCore.App /usr/share/dotnet/shared/Microsoft.NETCore.App
COPY shared/Microsoft.AspNetCore.App /usr/share/dotnet/shared/Microsoft.AspNetCore.App
ENV PATH=/usr/share/dotnet APP_UID=1654 ASPNETCORE_HTTP_PORTS=8080 DOTNET_RUNNING_IN_CONTAINER=true DOTNET_VERSION=10.0
USER 1654
DOCKERFILE
}

ensure_engine
sweep_leftovers
if [[ "$build" == 1 ]]; then
  have_image "$sdk_image" || { debian_base; sdk_stand_in; }
  have_image "$runtime_image" || { debian_base; runtime_stand_in; }
fi

# The linter and compose are required: a check that silently skips them is no check (scripts/test.sh installs them).
command -v npx >/dev/null || { log "npx (Debian package npm) is needed to lint the Dockerfile"; exit 1; }
# Compose v1 (Debian's docker-compose) where it is installed, else the v2 plugin (GitHub's runners have only that).
if command -v docker-compose >/dev/null; then
  compose_bin=(docker-compose)
elif docker_cli="$(command -v docker)" && "$docker_cli" compose version >/dev/null 2>&1; then
  compose_bin=("$docker_cli" compose)
else
  log "docker-compose (Debian package docker-compose) or the compose plugin is needed"
  exit 1
fi
log "linting the Dockerfile (dockerfile-utils)"
(cd "$root" && npx --yes dockerfile-utils lint Dockerfile)
log "validating compose.yaml"
: >"$work/empty.env"
(cd "$root" && AAP_SIGNING_KEY=x AAP_LINK_SIGNING_KEY=x POSTGRES_PASSWORD=x MINIO_ROOT_PASSWORD=x GRAFANA_ADMIN_PASSWORD=x METRICS_TOKEN=x \
  "${compose_bin[@]}" --env-file "$work/empty.env" -f compose.yaml config -q)
echo "lint: Dockerfile passes dockerfile-utils lint; compose.yaml passes ${compose_bin[*]##*/} config -q"

if [[ "$build" == 1 ]]; then
  log "building $tag"
  previous="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  start=$(date +%s)
  docker build -t "$tag" --build-arg REVISION="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$root" >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; exit 1; }
  log "built in $(( $(date +%s) - start )) s"
  # The labels (revision, date) make every build a new image: the one it replaced under this tag goes, not its layers.
  [[ -n "$previous" && "$previous" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]] && docker rmi "$previous" >/dev/null 2>&1 || true
fi

key() { head -c 48 /dev/urandom | base64 -w0; }
docker volume create --label "aap.image-check=$$" "$volume" >/dev/null
container="$(docker run -d --label "aap.image-check=$$" --read-only --tmpfs /tmp -v "$volume:/data" -p 127.0.0.1::8080 \
  -e Auth__SigningKey="$(key)" -e Storage__LinkSigningKey="$(key)" "$tag")"
port="$(docker port "$container" 8080/tcp | head -n 1 | sed 's/.*://')"

status=""
for _ in $(seq 1 90); do
  status="$(docker inspect -f '{{.State.Health.Status}}' "$container")"
  [[ "$status" == healthy || "$(docker inspect -f '{{.State.Running}}' "$container")" != true ]] && break
  sleep 2
done
if [[ "$status" != healthy ]]; then
  log "the container did not become healthy ($status)"
  docker logs "$container" 2>&1 | tail -n 30 >&2
  exit 1
fi
ready="$(curl -fsS "http://127.0.0.1:$port/health/ready")"
user="$(docker exec "$container" dotnet /app/aap.dll health --ready >/dev/null && docker inspect -f '{{.Config.User}}' "$tag")"
size="$(docker image inspect -f '{{.Size}}' "$tag")"
echo "image: $tag, $(( size / 1000000 )) MB ($size bytes), user $user, read-only root, healthy; /health/ready: $ready"
# The service's own process, seen from the host: the environment glibc read when it started (the malloc arena cap).
# Without the rights to read it (not root), the container's configured environment.
service_pid="$(docker inspect -f '{{.State.Pid}}' "$container")"
if [[ -r "/proc/$service_pid/environ" ]]; then
  seen="the service runs with"
  arenas="$(tr '\0' '\n' < "/proc/$service_pid/environ" | sed -n 's/^MALLOC_ARENA_MAX=//p')"
else
  seen="the container is configured with"
  arenas="$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$container" | sed -n 's/^MALLOC_ARENA_MAX=//p')"
fi
echo "runtime: $seen MALLOC_ARENA_MAX=${arenas:-unset}"

[[ "$compose" == 1 ]] || exit 0
docker rm -f "$container" >/dev/null && container=""

# --- the compose stack -----------------------------------------------------------------------------------------
project="aapcheck$$"
compose_cmd() {
  (cd "$root" && "${compose_bin[@]}" -p "$project" --env-file "$work/compose.env" -f compose.yaml ${override:+-f "$override"} "$@")
}
stand_in() { # image, Dockerfile body on stdin, optional context folder
  have_image "$1" && return 1
  log "building a stand-in for $1"
  docker build -q -t "$1" -f - "${2:-$work}" >/dev/null
}

override=""
mkdir -p "$work/pg"
cat >"$work/pg/entry.sh" <<'ENTRY'
#!/bin/sh
set -e
mkdir -p "$PGDATA" /run/postgresql && chown -R postgres "$PGDATA" /run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "$POSTGRES_PASSWORD" > /tmp/pw && chown postgres /tmp/pw
  runuser -u postgres -- initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/tmp/pw -A scram-sha-256 >/dev/null
  rm /tmp/pw
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  runuser -u postgres -- pg_ctl -D "$PGDATA" -w start -o "-c listen_addresses=''" >/dev/null
  PGPASSWORD="$POSTGRES_PASSWORD" runuser -u postgres -- psql -h /run/postgresql -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
  runuser -u postgres -- pg_ctl -D "$PGDATA" -w stop >/dev/null
fi
exec runuser -u postgres -- postgres -D "$PGDATA" -c listen_addresses='*'
ENTRY
chmod +x "$work/pg/entry.sh"
image_of() { sed -n "/^  $1:/,/^  [a-z]/s/^    image: *//p" "$root/compose.yaml" | head -n 1; }
debian_base
stand_in "$(image_of postgres)" "$work/pg" <<'DOCKERFILE' || true
FROM local/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY entry.sh /entry.sh
ENTRYPOINT ["/entry.sh"]
DOCKERFILE
stand_in "$(image_of proxy)" <<'DOCKERFILE' || true
FROM local/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light wget >/dev/null && rm -rf /var/lib/apt/lists/* && ln -sf /dev/stderr /var/log/nginx/error.log
CMD ["nginx", "-g", "daemon off;"]
DOCKERFILE
stand_in "$(image_of redis)" <<'DOCKERFILE' || true
FROM local/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null && rm -rf /var/lib/apt/lists/*
RUN printf '#!/bin/sh\nif [ "$1" = redis-server ]; then shift; exec redis-server --protected-mode no "$@"; fi\nexec "$@"\n' > /entry.sh && chmod +x /entry.sh
ENTRYPOINT ["/entry.sh"]
DOCKERFILE
# S3: moto (the Python package the test suite's S3 server is) under MinIO's image name, made from Debian's python3
# and the files of this machine's moto installation and what it needs (its S3 part and its HTTP server), with an
# `mc` that does the three things compose.yaml asks of MinIO's client (ready, alias set, mb). Without moto here, a
# placeholder: the nodes then share a local-store volume instead of S3.
minio_image="$(image_of minio)"
mc_image="$(image_of minio-bucket)"
moto_python=""
for python in python3 "$(sed -n '1s/^#! *//p' "$(command -v moto_server 2>/dev/null || echo /dev/null)" 2>/dev/null)"; do
  [[ -n "$python" ]] && "$python" -c 'import moto.server' >/dev/null 2>&1 && { moto_python="$python"; break; }
done
if [[ -n "$moto_python" && "$(docker image inspect -f '{{index .Config.Labels "aap.stand-in"}}' "$minio_image" 2>/dev/null)" == placeholder ]]
then
  docker rmi -f "$minio_image" "$mc_image" >/dev/null 2>&1 || true
fi
if [[ -n "$moto_python" ]] && ! have_image "$minio_image"; then
  mkdir -p "$work/moto"
  "$moto_python" - "$work/moto/site" >/dev/null <<'PYTHON'
import importlib.metadata as md, os, re, shutil, sys
out, seen, todo = sys.argv[1], set(), [("moto", {"s3"}), ("flask", set()), ("flask-cors", set())]
while todo:
    name, extras = todo.pop()
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        continue
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        continue
    seen.add(key)
    for requirement in dist.requires or []:
        spec, _, marker = requirement.partition(";")
        extra = re.search(r"extra\s*==\s*[\"']([^\"']+)", marker)
        if extra and extra.group(1) not in extras:
            continue
        found = re.match(r"\s*([A-Za-z0-9_.-]+)(\[([^\]]*)\])?", spec)
        todo.append((found.group(1), {x.strip() for x in (found.group(3) or "").split(",") if x.strip()}))
    base = dist.locate_file("")
    for f in dist.files or []:
        source = os.path.join(base, f)
        if not str(f).startswith("..") and os.path.isfile(source):
            target = os.path.join(out, f)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)
print(" ".join(sorted(seen)))
PYTHON
  cat >"$work/moto/mc" <<'PYTHON'
#!/usr/bin/python3
# MinIO's client as compose.yaml uses it: `mc ready local`, `mc alias set NAME URL USER PASSWORD`, `mc mb [--ignore-existing] NAME/BUCKET`.
import json, sys, urllib.error, urllib.request
aliases, args = "/tmp/mc-aliases.json", sys.argv[1:]
if args[:1] == ["ready"]:
    urllib.request.urlopen("http://127.0.0.1:9000/", timeout=3)
elif args[:2] == ["alias", "set"]:
    json.dump({args[2]: args[3]}, open(aliases, "w"))
elif args[:1] == ["mb"]:
    alias, _, bucket = [a for a in args[1:] if not a.startswith("--")][0].partition("/")
    try:
        urllib.request.urlopen(urllib.request.Request(json.load(open(aliases))[alias] + "/" + bucket, method="PUT"), timeout=10)
    except urllib.error.HTTPError as error:
        if error.code != 409:
            raise
else:
    sys.exit("mc stand-in: not supported: " + " ".join(args))
PYTHON
  chmod +x "$work/moto/mc"
  stand_in "$minio_image" "$work/moto" <<'DOCKERFILE' || true
FROM local/debian:bookworm
LABEL aap.stand-in=moto
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null && rm -rf /var/lib/apt/lists/*
COPY site /opt/moto
COPY mc /usr/bin/mc
ENV PYTHONPATH=/opt/moto
ENTRYPOINT ["/bin/sh", "-c", "exec python3 -m moto.server -H 0.0.0.0 -p 9000", "--"]
DOCKERFILE
  rm -rf "$work/moto"
fi
stand_in "$minio_image" <<'DOCKERFILE' || true
FROM local/debian:bookworm
LABEL aap.stand-in=placeholder
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null && rm -rf /var/lib/apt/lists/*
RUN printf '#!/bin/sh\nexit 0\n' > /usr/bin/mc && chmod +x /usr/bin/mc
ENTRYPOINT ["/bin/sh", "-c", "exec python3 -m http.server 9000", "--"]
DOCKERFILE
storage="S3 (MinIO)"
case "$(docker image inspect -f '{{index .Config.Labels "aap.stand-in"}}' "$minio_image" 2>/dev/null)" in
  moto)
  storage="S3 (moto standing in for MinIO)"
  docker tag "$minio_image" "$mc_image"
  ;;
  placeholder)
  storage="a shared local-store volume (no S3 stand-in: moto not installed here)"
  log "MinIO is a placeholder here: the nodes share a local-store volume instead of S3"
  stand_in "$mc_image" <<'DOCKERFILE' || true
FROM local/debian:bookworm
RUN printf '#!/bin/sh\nexit 0\n' > /usr/bin/mc && chmod +x /usr/bin/mc
DOCKERFILE
  override="$work/local-store.yaml"
  cat >"$override" <<'YAML'
services:
  aap-1:
    environment: { Storage__Provider: Local, Storage__LocalPath: /files }
    volumes: ["files:/files"]
  aap-2:
    environment: { Storage__Provider: Local, Storage__LocalPath: /files }
    volumes: ["files:/files"]
volumes:
  files:
YAML
  docker volume create --label "aap.image-check=$$" "${project}_files" >/dev/null
  docker run --rm -v "${project}_files:/f" local/debian:bookworm chown 1654:1654 /f
  ;;
esac
# Prometheus: Debian's package (2.x; the scrape configuration and rules need nothing of 3.x).
stand_in "$(image_of prometheus)" <<'DOCKERFILE' || true
FROM local/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null && rm -rf /var/lib/apt/lists/* \
 && { test -x /bin/prometheus || ln -s /usr/bin/prometheus /bin/prometheus; } && mkdir -p /prometheus /etc/prometheus
ENTRYPOINT ["/bin/prometheus"]
DOCKERFILE

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
prometheus_port="$(free_port)"
admin_password="$(key | tr -d '+/=' | head -c 32)"
cat >"$work/compose.env" <<ENV
POSTGRES_PASSWORD=$(key | tr -d '+/=')
AAP_SIGNING_KEY=$(key)
AAP_LINK_SIGNING_KEY=$(key)
MINIO_ROOT_PASSWORD=$(key | tr -d '+/=')
GRAFANA_ADMIN_PASSWORD=$(key | tr -d '+/=')
METRICS_TOKEN=$(key | tr -d '+/=')
AAP_IMAGE=$tag
AAP_PORT=$port
PROMETHEUS_PORT=$prometheus_port
AAP_ADMIN_USERNAME=checkadmin
AAP_ADMIN_EMAIL=checkadmin@example.test
AAP_ADMIN_PASSWORD=$admin_password
ENV
log "starting aap-1, aap-2, the proxy and Prometheus with PostgreSQL, Redis and $storage (project $project)"
compose_up=1
compose_cmd up -d --no-build aap-1 aap-2 proxy prometheus >"$work/compose.log" 2>&1 || { tail -n 30 "$work/compose.log" >&2; exit 1; }

base="http://127.0.0.1:$port"
user="check$RANDOM$RANDOM"
password="correct horse battery"
json() { printf '{"username":"%s","email":"%s@example.test","password":"%s","login":"%s"}' "$user" "$user" "$2" "$user"; }
curl -fsS -o /dev/null -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' -d "$(json x "$password")"
token="$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' -d "$(json x "$password")" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
echo iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg== | base64 -d >"$work/one.png"
file_id="$(curl -fsS -X POST "$base/api/v1/files" -H "authorization: Bearer $token" -F "file=@$work/one.png;type=image/png" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')"
for _ in 1 2 3 4; do
  curl -fsS -o "$work/back.png" "$base/api/v1/files/$file_id" -H "authorization: Bearer $token"
  cmp -s "$work/one.png" "$work/back.png" || { log "the file read back differs"; exit 1; }
  curl -fsS "$base/api/v1/me" -H "authorization: Bearer $token" | grep -q "\"$user\"" || { log "/me did not name $user"; exit 1; }
done
for node in aap-1 aap-2; do
  served="$(compose_cmd logs --no-color "$node" 2>/dev/null | grep -c '"RequestPath":"/api/v1/' || true)"
  (( served > 0 )) || { log "$node answered no API request through the proxy"; exit 1; }
  echo "$node answered $served logged API event(s) through the proxy"
done

# The bootstrap admin (AAP_ADMIN_*) publishes an app; the user completes it with a screenshot on one node and reads
# the points on the other. Each request carries its own X-Request-ID, which the node that answered logs.
node_of() { # request id -> the node whose log has it (a request's event is written as its response ends: retried for 30 s)
  local node
  for _ in $(seq 1 30); do
    for node in aap-1 aap-2; do
      compose_cmd logs --no-color "$node" 2>/dev/null | grep -q "\"RequestId\":\"$1\"" && { echo "$node"; return 0; }
    done
    sleep 1
  done
  return 1
}
json_field() { python3 -c 'import json, sys; d = json.load(sys.stdin); d = d.get("data", d); print(d[sys.argv[1]])' "$1"; }
call() { # expected status, curl arguments: the body, or the status and the body on stderr and a failure
  local expected=$1 status
  shift
  status="$(curl -sS -o "$work/body" -w '%{http_code}' "$@")" || return 1
  [[ "$status" == "$expected" ]] || { log "$* answered $status, not $expected: $(head -c 600 "$work/body")"; return 1; }
  cat "$work/body"
}
admin_token="$(call 200 -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"login\":\"checkadmin\",\"username\":\"checkadmin\",\"password\":\"$admin_password\"}" | json_field access_token)"
points=$(( 10 + RANDOM % 90 ))
app_id="$(call 201 -X POST "$base/api/v1/apps" -H "authorization: Bearer $admin_token" -H 'content-type: application/json' \
  -d "{\"name\":\"Compose check $user\",\"link\":\"https://play.google.com/store/apps/details?id=test.compose.$user\",\"points\":$points}" | json_field id)"
python3 - "$work/proof.png" <<'PYTHON'
import os, struct, sys, zlib
def chunk(kind, data): return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
pixels = b"".join(b"\0" + os.urandom(3 * 4) for _ in range(4))  # 4 x 4 random RGB pixels, a new image every run
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b""))
PYTHON
# Access tokens live 30 s by default (auth.access_token_lifetime_seconds): sign in again before each step.
sign_in() { curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' -d "$(json x "$password")" | json_field access_token; }
token="$(sign_in)"
request="check-$user-complete"
call 201 -X POST "$base/api/v1/apps/$app_id/completions" -H "authorization: Bearer $token" -H "X-Request-ID: $request" \
  -F "screenshot=@$work/proof.png;type=image/png" >/dev/null
completed_on="$(node_of "$request")" || { log "no node logged the completion ($request)"; exit 1; }
read_on=""
for i in 1 2 3 4 5 6 7 8; do
  request="check-$user-points-$i"
  token="$(sign_in)"
  balance="$(call 200 "$base/api/v1/me/points" -H "authorization: Bearer $token" -H "X-Request-ID: $request" | json_field balance)"
  [[ "$balance" == "$points" ]] || { log "the balance read was $balance, not $points"; exit 1; }
  node="$(node_of "$request")" || { log "no node logged the balance read ($request)"; exit 1; }
  [[ "$node" != "$completed_on" ]] && { read_on="$node"; break; }
  # Each round sends two requests (sign-in, read): under a strict round-robin every read would meet the same node.
  # One more request shifts the next read to the other node.
  curl -fsS -o /dev/null "$base/api/v1/status"
done
[[ -n "$read_on" ]] || { log "every balance read was answered by $completed_on, the node the completion went to"; exit 1; }
echo "rewards: the bootstrap admin's app ($points points) completed with a screenshot on $completed_on, balance $points read on $read_on"

# Both nodes find Redis (and the database and the scheduler) healthy, asked directly from inside the network.
for node in aap-1 aap-2; do
  ready="$(compose_cmd exec -T proxy wget -q -O - "http://$node:8080/health/ready")" || { log "$node: /health/ready failed"; exit 1; }
  python3 -c 'import json, sys; c = json.loads(sys.argv[1])["checks"]; sys.exit(0 if c["redis"]["status"] == "Healthy" else 1)' "$ready" \
    || { log "$node: redis not Healthy in /health/ready: $ready"; exit 1; }
done
echo "redis: aap-1 and aap-2 report redis Healthy in /health/ready"

# Five wrong passwords lock out this client's address for the account; a client with another address (inside the
# proxy's container: 127.0.0.1) is still let in to try, which only holds if AAP reads X-Forwarded-For from nginx.
for i in 1 2 3 4 5 6; do
  last="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' -d "$(json x "wrong $i")")"
done
[[ "$last" == 429 ]] || { log "the sixth wrong password was $last, not 429"; exit 1; }
other="$(compose_cmd exec -T proxy wget -S -q -O /dev/null --header='Content-Type: application/json' \
  --post-data="$(json x "wrong 7")" http://127.0.0.1/api/v1/auth/login 2>&1 | sed -n 's/.*HTTP\/1.1 \([0-9]*\).*/\1/p' | head -n 1 || true)"
[[ "$other" == 401 ]] || { log "another client address got $other, not 401: forwarded headers not honoured"; exit 1; }
echo "compose: two nodes healthy on PostgreSQL, Redis and $storage behind the proxy; sign-up, sign-in, upload and read-back across nodes; forwarded client addresses honoured"

# Prometheus scrapes both nodes with the metrics token (deploy/prometheus/prometheus.yml, every 15 s): wait until
# both targets are up and AAP's request counter has been scraped from each.
prometheus="http://127.0.0.1:$prometheus_port"
query() { curl -fsS -G "$prometheus/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
  python3 -c 'import json, sys; print(" ".join(sorted(r["metric"].get("instance", "") + "=" + r["value"][1] for r in json.load(sys.stdin)["data"]["result"])))'; }
up="" requests=""
for _ in $(seq 1 60); do
  up="$(query 'up{job="aap"}' || true)"
  requests="$(query 'count by (instance) (http_server_request_duration_seconds_count{job="aap"})' || true)"
  [[ "$up" == "aap-1:8080=1 aap-2:8080=1" && "$requests" == aap-1:8080=*" "aap-2:8080=* ]] && break
  sleep 2
done
[[ "$up" == "aap-1:8080=1 aap-2:8080=1" ]] || { log "Prometheus targets: '$up', not both up"; compose_cmd logs --no-color prometheus 2>&1 | tail -n 20 >&2; exit 1; }
[[ "$requests" == aap-1:8080=*" "aap-2:8080=* ]] || { log "no request counter scraped from both nodes: '$requests'"; exit 1; }
echo "prometheus: up{job=\"aap\"} is 1 for aap-1:8080 and aap-2:8080 (scraped with the metrics token); http_server_request_duration_seconds_count scraped from both"
