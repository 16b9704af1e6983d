# Two commands a newcomer needs on a fresh Debian 12 machine:
#   make demo   installs what is needed and plays the bundled demo drive in the UI
#   make test   installs what is needed and runs vet and every test
SHELL := /bin/bash

# Debian packages: build (cgo: OpenCV, OpenGL/X11 for Fyne, ALSA for audio),
# test services (Xvfb, gpsd, PostgreSQL) and media tools.
APT_PKGS := gcc g++ pkg-config libopencv-dev opencv-data libgl1-mesa-dev libx11-dev \
	libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libasound2-dev \
	xvfb xauth gpsd gpsd-clients postgresql ca-certificates
# Only for retraining models and rebuilding the demo drive and voice clips.
TRAIN_PKGS := python3-torch python3-numpy python3-opencv python3-pil fonts-dejavu-core fonts-roadgeek \
	fonts-opendin espeak-ng sox ffmpeg

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GO ?= go
GOTEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: deps train-deps build test demo vet bench models screenshots

# deps installs the Debian packages that are missing; a no-op when all are there.
deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -o DPkg::Lock::Timeout=600 -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=600 $$missing; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or later is needed: https://go.dev/dl/"; exit 1; }
	$(GO) mod download

train-deps:
	@missing=$$(for p in $(TRAIN_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		$(SUDO) apt-get update -o DPkg::Lock::Timeout=600 -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=600 $$missing; \
	fi

build: deps
	$(GO) build -o bin/ ./cmd/...

vet: deps
	$(GO) vet ./...

# test starts the services the tests use (Xvfb, PostgreSQL) for its own run.
test: deps
	bash .ci/test.sh

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

# demo plays the bundled drive (testdata/demo) in the touchscreen window; with
# no display it plays it headless, as JSON lines. Admin PIN in the demo: 0000.
demo: deps
	$(GO) build -o bin/ ./cmd/anpr
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then bin/anpr demo; \
	else echo "no display: playing the demo headless (JSON lines)"; bin/anpr demo --headless; fi

# screenshots remakes docs/screenshots from the real window under Xvfb.
screenshots: deps
	@dpkg-query -W -f='$${Status}\n' ffmpeg 2>/dev/null | grep -q '^install ok installed' || \
		{ $(SUDO) apt-get update -qq -o DPkg::Lock::Timeout=600 && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=600 ffmpeg; }
	app/ui/screenshots.sh

# models retrains both plate models from scratch with the committed recipe and
# fixed seeds (resumable: checkpoints in vision/train/runs/). Hours on a CPU.
models: train-deps
	sh vision/train/make_models.sh
