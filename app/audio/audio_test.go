package audio

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopxl/beep/v2"

	"github.com/ukanpr/anpr/app"
)

func rms(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, x := range s {
		sum += x * x
	}
	return math.Sqrt(sum / float64(len(s)))
}

func peak(s []float64) float64 {
	var p float64
	for _, x := range s {
		p = max(p, math.Abs(x))
	}
	return p
}

func voice(t *testing.T) *Voice {
	t.Helper()
	v, err := NewVoice()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVoiceClips(t *testing.T) {
	v := voice(t)
	var total time.Duration
	for _, name := range app.AllClips() {
		s := v.Clip(name)
		d := SampleRate.D(len(s))
		total += d
		if d < 100*time.Millisecond || d > 2*time.Second {
			t.Errorf("%s: %v long", name, d)
		}
		if r := rms(s); r < 0.05 {
			t.Errorf("%s: RMS %.3f, too quiet", name, r)
		}
		if p := peak(s); p < 0.5 || p > 0.99 {
			t.Errorf("%s: peak %.3f, want about -3 dBFS", name, p)
		}
	}
	t.Logf("%d clips, %v of speech", len(app.AllClips()), total)
}

// alerts returns one alert of each kind, as the policy makes them.
func alerts() map[string]app.Alert {
	clk := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	p := &app.AlertPolicy{Now: func() time.Time { return clk }, MaxUnacked: 1}
	hit := func(id, vrm string, prio int, cat string, past bool) app.Alert {
		a := p.Hit(app.Read{ID: id, VRM: vrm}, app.Hit{ReadID: id, Past: past, Matches: []app.Match{{
			Entry: app.HotlistEntry{List: "pnc", VRM: vrm, Category: cat, Priority: prio}}}})
		return *a
	}
	out := map[string]app.Alert{}
	out["p1 stolen"] = hit("r1", "AB12CDE", 1, "stolen", false)
	out["p1 firearms (more urgent: full)"] = hit("r2", "GX07XYZ", 1, "Firearms", false)
	p.Ack("r2")
	p.Ack("r1")
	out["p3 no insurance"] = hit("r3", "X9ZZZ", 3, "No insurance", false)
	out["overload"] = hit("r4", "K123ABC", 4, "no tax", false)
	p.Ack("r3")
	p.Ack("r4")
	out["p5 tone only"] = hit("r5", "LM51NOP", 5, "no MOT", false)
	p.Ack("r5")
	out["past hit"] = hit("r6", "PA55HIT", 2, "wanted", true)
	out["gps lost"] = *p.PartChanged(app.PartStatus{Part: app.PartGPS, State: app.StateLost})
	out["gps restored"] = *p.PartChanged(app.PartStatus{Part: app.PartGPS, State: app.StateOK})
	out["link lost"] = *p.PartChanged(app.PartStatus{Part: app.PartSync, State: app.StateLost})
	out["camera lost"] = *p.PartChanged(app.PartStatus{Part: app.PartCamera, ID: "front", State: app.StateLost})
	return out
}

// find returns where needle first occurs in hay at or after from, within
// tol per sample, or -1.
func find(hay, needle []float64, from int, tol float64) int {
outer:
	for i := from; i+len(needle) <= len(hay); i++ {
		for j, x := range needle {
			if math.Abs(hay[i+j]-x) > tol {
				continue outer
			}
		}
		return i
	}
	return -1
}

// probe returns 256 samples around a clip's loudest point and their offset:
// a fingerprint that silence cannot match.
func probe(s []float64) ([]float64, int) {
	at := 0
	for i, x := range s {
		if math.Abs(x) > math.Abs(s[at]) {
			at = i
		}
	}
	start := max(0, min(at-128, len(s)-256))
	return s[start:min(len(s), start+256)], start
}

func TestRenderAlertsToWAV(t *testing.T) {
	v := voice(t)
	dir := t.TempDir()
	const lsb = 1.5 / 32768 // 16-bit rounding, both ways
	for name, a := range alerts() {
		t.Run(name, func(t *testing.T) {
			r, err := v.Render(a)
			if err != nil {
				t.Fatal(err)
			}
			// Write and read back the file the car would play.
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".wav")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.WriteWAV(f); err != nil {
				t.Fatal(err)
			}
			f.Close()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeWAV(b)
			if err != nil {
				t.Fatal(err)
			}

			// Length: tone, then each clip with its gap, then the tail.
			want := r.Segments[0].End
			for i, c := range a.Speech {
				want = r.Segments[i+1].Start + len(v.Clip(c))
			}
			want += SampleRate.N(100 * time.Millisecond)
			if len(got) != want || len(got) != len(r.Samples) {
				t.Fatalf("%d samples in the file, %d rendered, want %d", len(got), len(r.Samples), want)
			}
			secs := SampleRate.D(len(got)).Seconds()
			if secs < 0.3 || secs > 8 {
				t.Errorf("%.2f s long", secs)
			}

			// Loudness: every part audible, nothing clipped, gaps silent.
			if p := peak(got); p > 0.99 {
				t.Errorf("peak %.3f: clipping", p)
			}
			last := 0
			for _, s := range r.Segments {
				if r := rms(got[s.Start:s.End]); r < 0.05 {
					t.Errorf("%s: RMS %.3f, too quiet", s.Name, r)
				}
				if r := rms(got[last:s.Start]); last < s.Start && r > 0.001 {
					t.Errorf("gap before %s: RMS %.4f, not silent", s.Name, r)
				}
				last = s.End
			}

			// Order: the manifest is the tone then the speech …
			var names []string
			for _, s := range r.Segments {
				names = append(names, s.Name)
			}
			if !strings.HasPrefix(names[0], "tone:") || !slices.Equal(names[1:], a.Speech) {
				t.Fatalf("segments %v, speech %v", names, a.Speech)
			}
			// … and each clip's fingerprint is found in the file's samples
			// in that order, exactly where the manifest says.
			from := r.Segments[0].End
			for i, c := range a.Speech {
				fp, off := probe(v.Clip(c))
				at := find(got, fp, from, lsb)
				if at < 0 {
					t.Fatalf("clip %d %q not found after sample %d", i, c, from)
				}
				if at-off != r.Segments[i+1].Start {
					t.Errorf("clip %d %q at %d, manifest says %d", i, c, at-off, r.Segments[i+1].Start)
				}
				from = at - off + len(v.Clip(c))
			}
		})
	}
}

func TestRenderSpeechOrder(t *testing.T) {
	v := voice(t)
	r, err := v.Render(alerts()["p1 stolen"])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range r.Segments {
		names = append(names, s.Name)
	}
	want := "tone:p1 hit stolen-vehicle alpha bravo one two charlie delta echo"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// zeroCrossingHz estimates the frequency of a tone.
func zeroCrossingHz(s []float64) float64 {
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / SampleRate.D(len(s)).Seconds()
}

func TestTonesPerPriority(t *testing.T) {
	v := voice(t)
	tests := []struct {
		prio  int
		beeps int
		hz    float64
	}{{1, 4, 1500}, {2, 3, 1250}, {3, 2, 1000}, {4, 1, 880}, {6, 1, 880}, {7, 1, 660}, {9, 1, 660}}
	for _, tc := range tests {
		r, err := v.Render(app.Alert{Kind: app.AlertHit, Priority: tc.prio})
		if err != nil {
			t.Fatal(err)
		}
		tone := r.Samples[r.Segments[0].Start:r.Segments[0].End]
		// Count beeps as runs of sound separated by at least 20 ms of silence.
		beeps, quiet := 0, SampleRate.N(20*time.Millisecond)
		for i := 0; i < len(tone); {
			if tone[i] == 0 {
				i++
				continue
			}
			beeps++
			for z := 0; i < len(tone) && z < quiet; i++ {
				if tone[i] == 0 {
					z++
				} else {
					z = 0
				}
			}
		}
		if beeps != tc.beeps {
			t.Errorf("p%d: %d beeps, want %d", tc.prio, beeps, tc.beeps)
		}
		var on []float64
		for _, x := range tone {
			if x != 0 {
				on = append(on, x)
			}
		}
		if hz := zeroCrossingHz(on); math.Abs(hz-tc.hz) > 0.05*tc.hz {
			t.Errorf("p%d: %.0f Hz, want %.0f", tc.prio, hz, tc.hz)
		}
	}
}

func TestRenderMissingClip(t *testing.T) {
	v := voice(t)
	if _, err := v.Render(app.Alert{Kind: app.AlertHit, Priority: 1, Speech: []string{"hit", "klingon"}}); err == nil ||
		!strings.Contains(err.Error(), "klingon") {
		t.Errorf("err %v", err)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		ok     bool
		reason string
	}{
		{"no ALSA at all", nil, false, "not readable"},
		{"no cards", map[string]string{"proc/asound/cards": "--- no soundcards ---\n"}, false, "no sound card"},
		{"card but no playback device", map[string]string{
			"proc/asound/cards": " 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n",
			"dev/snd/pcmC0D0c":  "", // capture only
			"dev/snd/controlC0": ""}, false, "no ALSA playback device"},
		{"card with playback", map[string]string{
			"proc/asound/cards": " 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n",
			"dev/snd/pcmC0D0p":  ""}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for p, body := range tc.files {
				p = filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ok, reason := Detect(root)
			if ok != tc.ok || !strings.Contains(reason, tc.reason) {
				t.Errorf("Detect = %v %q, want %v %q", ok, reason, tc.ok, tc.reason)
			}
		})
	}
}

func TestNoSoundCardFallsBackToVisualLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	out := newOutput(t.TempDir(), logger) // a root with no ALSA: never touches the speaker
	if _, ok := out.(*Visual); !ok {
		t.Fatalf("output %T, want *Visual", out)
	}
	p := &Player{Voice: voice(t), Out: out}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, a := range alerts() {
		if err := p.Play(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("visual playback waited")
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "visual only") {
		t.Errorf("log %q: want one line saying alerts are visual only", logs.String())
	}
}

func TestWAVDir(t *testing.T) {
	dir := t.TempDir()
	p := &Player{Voice: voice(t), Out: &WAVDir{Dir: dir}}
	a := alerts()["p1 stolen"]
	if err := p.Play(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "0001-hit.wav"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := SampleRate.D(len(s)); d < time.Second {
		t.Errorf("%v long", d)
	}
}

// TestSpeakerThatNeverFinishes: a card that takes the stream but never
// plays it (what beep's speaker does with no card behind it) is abandoned
// at the first alert that overruns, logged once; later alerts are visual.
func TestSpeakerThatNeverFinishes(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	var played, cleared int
	var waited []time.Duration
	sp := &Speaker{Logger: logger, Slack: time.Second,
		play:  func(...beep.Streamer) { played++ }, // never streams, never calls back
		clear: func() { cleared++ },
		after: func(d time.Duration) <-chan time.Time {
			waited = append(waited, d)
			c := make(chan time.Time, 1)
			c <- time.Time{}
			return c
		}}
	p := &Player{Voice: voice(t), Out: sp}
	a := alerts()["p1 stolen"]
	r, _ := p.Voice.Render(a)
	for range 3 {
		if err := p.Play(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if played != 1 || cleared != 1 {
		t.Errorf("played %d cleared %d: want the speaker tried once", played, cleared)
	}
	if want := SampleRate.D(len(r.Samples)) + time.Second; len(waited) != 1 || waited[0] != want {
		t.Errorf("waited %v, want the alert's length plus slack %v", waited, want)
	}
	if n := strings.Count(logs.String(), "\n"); n != 2 || !strings.Contains(logs.String(), "stopped playing") {
		t.Errorf("log %q: want the speaker's failure and the visual fallback, once each", logs.String())
	}
}

func TestSpeakerPlays(t *testing.T) {
	var got int
	sp := &Speaker{
		play: func(ss ...beep.Streamer) { // a working card: drain the stream
			buf := make([][2]float64, 512)
			for _, s := range ss {
				for {
					n, ok := s.Stream(buf)
					got += n
					if !ok {
						break
					}
				}
			}
		},
		clear: func() { t.Error("cleared a finished alert") },
		after: func(time.Duration) <-chan time.Time { return nil },
	}
	p := &Player{Voice: voice(t), Out: sp}
	a := alerts()["gps lost"]
	r, _ := p.Voice.Render(a)
	if err := p.Play(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if got != len(r.Samples) {
		t.Errorf("streamed %d samples, want %d", got, len(r.Samples))
	}
}
