package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchUsage(t *testing.T) {
	checkMats(t)
	if _, stderr, code := runMain(t, "bench", "--frames", "-1"); code != 2 || !strings.Contains(stderr, "--frames") {
		t.Errorf("exit %d, %q", code, stderr)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "drive.mp4")
	os.WriteFile(bad, []byte(strings.Repeat("not a video ", 1000)), 0o644)
	for _, p := range []string{bad, filepath.Join(dir, "missing.mp4")} {
		if _, stderr, code := runMain(t, "bench", "--video", p); code != 2 || !strings.Contains(stderr, p) {
			t.Errorf("--video %s: exit %d, %q; want 2 naming the file", p, code, stderr)
		}
	}
}

// TestBenchRuns runs a short benchmark on a synthesised video.
func TestBenchRuns(t *testing.T) {
	checkMats(t)
	if testing.Short() {
		t.Skip("-short: the benchmark takes a while")
	}
	margs := modelArgs(t)
	stdout, stderr, code := runMain(t, append([]string{"bench", "--frames", "20", "--json", "--region", "any"}, margs...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 runs:\n%s", len(lines), stdout)
	}
	for _, l := range lines {
		var r benchJSON
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Frames == 0 || r.FPS <= 0 || r.RSSPeakMB <= 0 {
			t.Errorf("run %+v", r)
		}
	}
}
