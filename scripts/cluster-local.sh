#!/usr/bin/env bash
# A local cluster to try (README, "Running a cluster"): a throwaway PostgreSQL (installed by
# scripts/ensure-postgres.sh when missing) and three coordinators on it, on ports 8787-8789 (or
# from OWP_CLUSTER_PORT). Ctrl-C stops everything; the folder (OWP_CLUSTER_DIR, default a temp
# folder) keeps the database and logs. Kill the leader (`kill -9 <pid>`) and watch another node take over.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
BIN="${OWP_POSTGRES_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
DIR="${OWP_CLUSTER_DIR:-$(mktemp -d -t owp-cluster-XXXXXX)}"
BASE_PORT="${OWP_CLUSTER_PORT:-8787}"
PG_PORT="${OWP_CLUSTER_PG_PORT:-55432}"
NODES="${OWP_CLUSTER_NODES:-3}"
mkdir -p "$DIR"
# PostgreSQL refuses to run as root: as root, it runs as Debian's `postgres` user.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$DIR"
  as_pg=(runuser -u postgres --)
fi
if [ ! -f "$DIR/pg/PG_VERSION" ]; then
  "${as_pg[@]}" "$BIN/initdb" -D "$DIR/pg" -A trust -U postgres -E UTF8 --locale=C >/dev/null
fi
"${as_pg[@]}" "$BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w -o "-p $PG_PORT -k $DIR -c listen_addresses=127.0.0.1" start >/dev/null
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "${as_pg[@]}" "$BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null || true
  echo "stopped; database and logs kept in $DIR"
}
trap stop INT TERM EXIT
"$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'owp'" | grep -q 1 \
  || "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE owp'
node esbuild.mjs
export OWP_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/owp"
export OWP_ADMIN_TOKEN="${OWP_ADMIN_TOKEN:-$(node -e "console.log('owpm_' + require('crypto').randomBytes(32).toString('base64url'))")}"
for i in $(seq 1 "$NODES"); do
  port=$((BASE_PORT + i - 1))
  node bin/owp.mjs coordinator --store postgres --port "$port" --node-id "node-$i" --data-dir "$DIR/node-$i" \
    --leader-lease-ms "${OWP_LEADER_LEASE_MS:-5000}" --leader-renew-interval-ms "${OWP_LEADER_RENEW_MS:-1000}" \
    >"$DIR/node-$i.log" 2>&1 &
  pids+=("$!")
  # The first node takes the lease; the others follow it.
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  echo "node-$i  http://127.0.0.1:$port  pid ${pids[-1]}  log $DIR/node-$i.log"
done
echo "PostgreSQL  $OWP_DATABASE_URL  (data in $DIR/pg)"
echo "admin token $OWP_ADMIN_TOKEN"
echo "who leads:  curl -s -H \"authorization: Bearer \$OWP_ADMIN_TOKEN\" http://127.0.0.1:$BASE_PORT/metrics | grep owp_cluster"
echo "Ctrl-C stops the cluster."
wait
