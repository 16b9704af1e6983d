package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets a test run the real command on the main thread in a child
// process (the OpenGL window needs the main thread, which tests do not
// have): ANPR_TEST_MAIN holds its arguments, one per line.
func TestMain(m *testing.M) {
	if args := os.Getenv("ANPR_TEST_MAIN"); args != "" {
		cli := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
		os.Exit(cli.Run(context.Background(), strings.Split(args, "\n")))
	}
	os.Exit(m.Run())
}

// TestBenchUISoakOnRealWindow runs `anpr bench-ui soak` for a few seconds
// on the real OpenGL window: the reads go through the engine into a real
// store, and every hit must be seen on the display (read back from the X
// server) and answered.
func TestBenchUISoakOnRealWindow(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY: the real window needs one (make test starts Xvfb)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	cmd := exec.Command(os.Args[0])
	cmd.Dir = filepath.Dir(repoFile(t, "go.mod"))
	cmd.Env = append(os.Environ(), "ANPR_TEST_MAIN=bench-ui\nsoak\n--for\n11s\n--rate\n30\n--json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench-ui: %v\n%s", err, stderr.String())
	}
	var r benchUIResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	t.Logf("%+v", r)
	if r.Reads < 250 || r.Reads > 340 {
		t.Errorf("%d reads in 11 s at 30/s", r.Reads)
	}
	if r.Hits < 2 || r.NotSeen != 0 || r.Measured+r.Queued != r.Hits || r.Measured == 0 {
		t.Errorf("hits %d: %d measured, %d queued, %d never seen on the display", r.Hits, r.Measured, r.Queued, r.NotSeen)
	}
	if r.ScreenP50MS <= 0 || r.ScreenP50MS < r.LayoutP50MS || r.ScreenMaxMS > 5000 {
		t.Errorf("latency to the display p50 %.1f ms (built %.1f ms), max %.1f ms", r.ScreenP50MS, r.LayoutP50MS, r.ScreenMaxMS)
	}
	if len(r.Samples) < 2 || r.Samples[0].RSSMB <= 0 {
		t.Errorf("memory samples %+v", r.Samples)
	}
}

func TestBenchUIUsage(t *testing.T) {
	for _, args := range [][]string{{"bench-ui"}, {"bench-ui", "fast"}, {"bench-ui", "latency", "--loops", "0"},
		{"bench-ui", "soak", "--rate", "-1"}, {"bench-ui", "soak", "extra"}} {
		if _, errOut, code := runMain(t, args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}

func TestSummariseMemory(t *testing.T) {
	r := &benchUIResult{}
	for s := 0; s <= 600; s += 10 {
		rss := 300 + 0.5*float64(s)/60 // +0.5 MB a minute
		if s < 60 {
			rss = 200 + float64(s) // start-up, left out
		}
		r.Samples = append(r.Samples, memorySample{Second: float64(s), RSSMB: rss, HeapMB: 20})
	}
	r.summariseMemory()
	if r.RSSStartMB != 300.5 || r.RSSEndMB != 305 || r.RSSPeakMB != 305 || r.RSSSlope < 0.499 || r.RSSSlope > 0.501 {
		t.Errorf("%+v", r)
	}
}

func TestTruthHotlist(t *testing.T) {
	dir := t.TempDir()
	truth := filepath.Join(dir, "truth.csv")
	os.WriteFile(truth, []byte("vrm,first_ms\nab12 cde,0\nAB12CDE,5\nXY51ZZZ,9\n"), 0o600)
	path, err := truthHotlist(truth, filepath.Join(dir, "list.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "vrm,category,priority,action,reference\nAB12CDE,Bench: every vehicle,2,Answer,BENCH-001\nXY51ZZZ,Bench: every vehicle,2,Answer,BENCH-003\n"; string(b) != want {
		t.Errorf("list:\n%s\nwant\n%s", b, want)
	}
	os.WriteFile(truth, []byte("first_ms,vrm\n"), 0o600)
	if _, err := truthHotlist(truth, filepath.Join(dir, "list.csv")); err == nil {
		t.Error("a truth file without a vrm column made a list")
	}
}
