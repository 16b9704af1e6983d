#!/usr/bin/env bash
# Runs vet and the tests with the services they need: a virtual display for
# the UI tests and a throwaway PostgreSQL cluster for the back-office tests.
# Everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -n "${PGDATA_DIR:-}" ]; then run_pg pg_ctl -D "$PGDATA_DIR" -m immediate stop >/dev/null 2>&1 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# A display for Fyne: Xvfb at the tablet's size unless one is already there.
if [ -z "${DISPLAY:-}" ] && command -v Xvfb >/dev/null; then
	Xvfb :97 -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
	pids+=($!)
	export DISPLAY=:97
fi

# PostgreSQL: a private cluster on a private port, owned by an unprivileged
# user when we are root (initdb refuses root).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- env PATH="$PGBIN:$PATH" "$@"; else env PATH="$PGBIN:$PATH" "$@"; fi; }
if [ -n "$PGBIN" ] && [ -z "${ANPR_TEST_POSTGRES:-}" ]; then
	PGDATA_DIR="$tmp/pg"
	mkdir -p "$PGDATA_DIR"
	[ "$(id -u)" = 0 ] && chown postgres "$tmp" "$PGDATA_DIR"
	chmod 755 "$tmp"
	port=$((54000 + RANDOM % 1000))
	if run_pg initdb -D "$PGDATA_DIR" -U anpr --auth=trust >"$tmp/initdb.log" 2>&1 &&
		run_pg pg_ctl -D "$PGDATA_DIR" -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off" -l "$tmp/pg.log" -w start >/dev/null; then
		run_pg createdb -h 127.0.0.1 -p "$port" -U anpr anpr_test
		export ANPR_TEST_POSTGRES="postgres://anpr@127.0.0.1:$port/anpr_test?sslmode=disable"
	else
		echo "warning: could not start PostgreSQL; PostgreSQL tests will skip" >&2
		cat "$tmp/initdb.log" "$tmp/pg.log" 2>/dev/null >&2 || true
		PGDATA_DIR=
	fi
fi

go vet -tags matprofile ./...
# matprofile: gocv counts live Mats so the vision tests can assert none leaked.
go test -tags matprofile -count=1 -timeout 40m ./...
