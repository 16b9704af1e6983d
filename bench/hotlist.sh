#!/usr/bin/env bash
# Fleet-admin scale, end to end through the real binary: generate realistic
# hot lists totalling N entries (default 10 million) in several lists with 100
# wildcard entries, import each with `anpr hotlist import`, then measure how
# long a fresh process takes to be ready to match (open the database, load
# the matching index, answer one check) and its peak resident memory.
#
#   bash bench/hotlist.sh [N]
#
# Matching latency percentiles come from `go test -bench Match ./app/hotlist`.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/anpr" ./cmd/anpr
go build -o "$work/gen" ./app/hotlist/gen

# Four lists: 50 %, 30 %, 19 % of the marks, and the wildcard entries.
parts=("stolen:$((n / 2)):0" "no-insurance:$((n * 3 / 10)):0" "wanted:$((n - n / 2 - n * 3 / 10 - 100)):0" "patterns:0:100")
seed=1
for p in "${parts[@]}"; do
	IFS=: read -r list count pats <<<"$p"
	"$work/gen" -n "$count" -patterns "$pats" -seed "$seed" -now "$(date -u +%F)" >"$work/$list.csv"
	seed=$((seed + 1))
	echo "import $list: $count marks, $pats patterns, $(du -h "$work/$list.csv" | cut -f1)"
	/usr/bin/time -f "import $list: %e s wall, peak RSS %M KB" \
		"$work/anpr" hotlist import --db "$work/car.db" --list "$list" --json "$work/$list.csv" | tail -1
	rm "$work/$list.csv"
done
"$work/anpr" hotlist stats --db "$work/car.db" | tail -1

# Ready to match after start: a new process opens the database and the
# snapshot written at import, and answers a check. Drop the page cache when we
# may, to show a cold start too.
for run in warm1 warm2 warm3; do
	/usr/bin/time -f "$run: ready+check %e s wall, peak RSS %M KB" \
		"$work/anpr" hotlist check --db "$work/car.db" AB12CDE >/dev/null
done
if [ -w /proc/sys/vm/drop_caches ]; then
	sync && echo 3 >/proc/sys/vm/drop_caches
	/usr/bin/time -f "cold (page cache dropped): ready+check %e s wall, peak RSS %M KB" \
		"$work/anpr" hotlist check --db "$work/car.db" AB12CDE >/dev/null
fi
ls -la "$work" | grep -E "car.db|index"
