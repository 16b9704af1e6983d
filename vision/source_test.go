package vision

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSourceDropsOldestFrame(t *testing.T) {
	checkMats(t)
	path := writeVideo(t, t.TempDir(), 20, 160, 120, 10)
	src := NewSource(path, "front")
	src.Queue = 2
	src.Speed = 1000 // 10 000 frames/s: the whole clip arrives at once
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer src.Stop()
	// Nobody consumes until the whole file has been captured: every frame
	// but the newest two must have been dropped, oldest first.
	waitFor(t, "capture", func() bool { s := src.Stats(); return s.Captured == 20 && s.Dropped == 18 })
	var got []int64
	for f := range src.Frames() {
		if lv := level(f.Mat); int64(lv) != f.Seq {
			t.Errorf("frame %d has the pixels of frame %d", f.Seq, lv)
		}
		got = append(got, f.Seq)
		f.Close()
	}
	if len(got) != 2 || got[0] != 18 || got[1] != 19 {
		t.Errorf("consumer got frames %v, want the newest two [18 19]", got)
	}
	if st := src.Stats(); st.Dropped != 18 || st.Captured != 20 {
		t.Errorf("stats %+v, want 20 captured, 18 dropped", st)
	}
	if err := src.Err(); err != nil {
		t.Errorf("Err at end of file = %v, want nil", err)
	}
}

func TestSourceLosslessReplayIsDeterministic(t *testing.T) {
	checkMats(t)
	path := writeVideo(t, t.TempDir(), 12, 160, 120, 10)
	epoch := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for run := 0; run < 2; run++ {
		src := NewSource(path, "rear")
		src.Lossless, src.Queue, src.Epoch = true, 1, epoch
		if err := src.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		var n int64
		for f := range src.Frames() {
			want := epoch.Add(time.Duration(f.Seq) * 100 * time.Millisecond)
			if f.Seq != n || !f.Time.Equal(want) || f.Camera != "rear" || level(f.Mat) != int(n) {
				t.Errorf("run %d frame %d: seq %d time %v level %d, want time %v", run, n, f.Seq, f.Time, level(f.Mat), want)
			}
			n++
			time.Sleep(time.Millisecond) // a slow consumer must not lose frames
			f.Close()
		}
		src.Stop()
		if n != 12 || src.Stats().Dropped != 0 {
			t.Errorf("run %d: got %d frames, %d dropped; want 12, 0", run, n, src.Stats().Dropped)
		}
	}
}

func TestSourceLoops(t *testing.T) {
	checkMats(t)
	path := writeVideo(t, t.TempDir(), 5, 160, 120, 10)
	epoch := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	src := NewSource(path, "front")
	src.Lossless, src.Loops, src.Epoch = true, 3, epoch
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer src.Stop()
	var n int64
	for f := range src.Frames() {
		want := epoch.Add(time.Duration(n) * 100 * time.Millisecond)
		if f.Seq != n || !f.Time.Equal(want) || level(f.Mat) != int(n%5) {
			t.Errorf("frame %d: seq %d time %v level %d; want time %v level %d", n, f.Seq, f.Time, level(f.Mat), want, n%5)
		}
		n++
		f.Close()
	}
	if n != 15 || src.Err() != nil {
		t.Errorf("got %d frames (want 15), err %v", n, src.Err())
	}
}

func TestSourceUnreadableVideo(t *testing.T) {
	checkMats(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mp4")
	os.WriteFile(garbage, []byte(strings.Repeat("this is not a video\n", 500)), 0o644)
	empty := filepath.Join(dir, "empty.avi")
	os.WriteFile(empty, nil, 0o644)
	// A real video cut short after its header.
	full, _ := os.ReadFile(writeVideo(t, dir, 10, 160, 120, 10))
	cut := filepath.Join(dir, "cut.avi")
	os.WriteFile(cut, full[:300], 0o644)

	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"missing", filepath.Join(dir, "nope.mp4"), fs.ErrNotExist},
		{"garbage", garbage, ErrUnreadableVideo},
		{"empty", empty, ErrUnreadableVideo},
		{"truncated", cut, ErrUnreadableVideo},
		{"directory", dir, ErrUnreadableVideo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := NewSource(tc.path, "front")
			err := src.Start(context.Background())
			if err == nil {
				// Some containers open and fail at the first frame.
				for f := range src.Frames() {
					f.Close()
				}
				src.Stop()
				err = src.Err()
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("error %v: want %v naming %s", err, tc.want, tc.path)
			}
		})
	}
}

func TestSourceReconnectsWithBackoff(t *testing.T) {
	checkMats(t)
	dir := t.TempDir()
	clip := filepath.Join(dir, "live.avi")
	// The stream is not there yet: the source must keep retrying.
	var ticks atomic.Int64
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	src := NewSource("file://"+clip, "front")
	src.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	src.Lossless = true // ignored for live sources: must still drop
	src.MinBackoff, src.MaxBackoff = 2*time.Millisecond, 20*time.Millisecond
	src.Now = func() time.Time { return stamp.Add(time.Duration(ticks.Add(1)) * time.Second) }
	if KindOf(src.URI) != KindStream {
		t.Fatalf("KindOf(%s) = %v, want stream", src.URI, KindOf(src.URI))
	}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if st := src.Stats(); st.Captured != 0 {
		t.Fatalf("captured %d frames from a stream that does not exist", st.Captured)
	}
	os.Rename(writeVideo(t, dir, 5, 160, 120, 25), clip)
	// Each pass over the 5-frame file ends like a lost connection.
	var frames int
	var last time.Time
	for f := range src.Frames() {
		if !f.Time.After(last) {
			t.Errorf("frame %d time %v not after %v: live frames take the injected clock", f.Seq, f.Time, last)
		}
		last = f.Time
		frames++
		f.Close()
		if src.Stats().Reconnects >= 2 {
			break
		}
	}
	src.Stop()
	st := src.Stats()
	if st.Reconnects < 2 || st.Captured < 10 {
		t.Errorf("stats %+v: want ≥ 2 reconnects and ≥ 10 frames", st)
	}
	if frames == 0 || st.Captured < int64(frames) {
		t.Errorf("captured %d, consumed %d", st.Captured, frames)
	}
}

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want SourceKind
	}{
		{"0", KindDevice},
		{"/dev/video2", KindDevice},
		{"rtsp://10.0.0.5:554/stream1", KindStream},
		{"http://cam.local/mjpg", KindStream},
		{"testdata/demo/drive.mp4", KindFile},
		{"drive 2.mkv", KindFile},
	} {
		if got := KindOf(tc.uri); got != tc.want {
			t.Errorf("KindOf(%q) = %v, want %v", tc.uri, got, tc.want)
		}
	}
}
