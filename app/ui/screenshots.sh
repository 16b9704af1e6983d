#!/usr/bin/env bash
# Renders every screen of the in-car app, day and night, at 1280×800 into
# docs/screenshots/ (run from anywhere; paths are the repository's).
#
#   app/ui/screenshots.sh             the real OpenGL window on a virtual
#                                     display (Xvfb), grabbed with ffmpeg's
#                                     x11grab: what the committed pictures are
#   app/ui/screenshots.sh --software  Fyne's software painter, no display at
#                                     all (what the render tests see)
#
# The default starts its own Xvfb (1280×800×24) unless DISPLAY is set, and
# stops it on exit. Needs Xvfb and ffmpeg (Debian: xvfb ffmpeg).
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${OUT:-docs/screenshots}
case "${1:-}" in
--software)
	go run ./app/ui/cmd/screenshots -out "$out"
	;;
"")
	pid=
	trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT
	if [ -z "${DISPLAY:-}" ]; then
		for n in $(seq 90 99); do [ -e "/tmp/.X11-unix/X$n" ] || break; done
		Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
		pid=$!
		export DISPLAY=":$n"
		for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
	fi
	go run ./app/ui/cmd/screenshots -window -out "$out"
	;;
*)
	echo "usage: $0 [--software]" >&2
	exit 2
	;;
esac
ls "$out"
