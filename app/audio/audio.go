// Package audio sounds the engine's alerts with gopxl/beep: a tone per
// priority, then the spoken read-out ("Hit. Stolen vehicle. Alpha Bravo One
// Two Charlie Delta Echo.") from the voice clips in assets/sounds.
//
// Rendering and output are separate: Voice.Render turns an app.Alert into
// mono samples plus a manifest of what lies where, and an Output plays them.
// NewPlayer picks the speaker when the car has a sound card and a visual-only
// output otherwise: with no card, beep's speaker.Init succeeds and playback
// then never finishes, so the card is detected before the speaker is touched
// (Detect), and a speaker that stops finishing its alerts is abandoned too.
// Either way the fallback is logged once. Tests render alerts to WAV files.
package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/gopxl/beep/v2"
	"github.com/gopxl/beep/v2/wav"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/assets"
)

// SampleRate is the rate of every clip and of what Render returns.
const SampleRate beep.SampleRate = 16000

// Format is the WAV format alerts are written in: mono, 16-bit.
var Format = beep.Format{SampleRate: SampleRate, NumChannels: 1, Precision: 2}

// Gaps between the parts of an alert.
const (
	gapAfterTone = 0.15 // seconds
	gapSentence  = 0.12 // after "Hit." and the category
	gapWord      = 0.04 // between the letters of a mark
)

// toneAmp is the tones' peak level: loud beside the voice (peak -3 dBFS)
// without clipping.
const toneAmp = 0.6

// Segment is one part of a rendered alert: a tone ("tone:p1", "tone:lost",
// …) or a voice clip by name, at samples [Start, End).
type Segment struct {
	Name       string
	Start, End int
}

// Rendered is an alert as samples, mono at SampleRate, in [-1, 1].
type Rendered struct {
	Samples  []float64
	Segments []Segment // in playing order; the silences between are not listed
}

// Streamer plays the samples as a beep stream (both channels the same).
func (r *Rendered) Streamer() beep.StreamSeeker { return &monoStreamer{s: r.Samples} }

// WriteWAV writes the samples as a mono 16-bit WAV file.
func (r *Rendered) WriteWAV(w io.WriteSeeker) error {
	if err := wav.Encode(w, r.Streamer(), Format); err != nil {
		return fmt.Errorf("encode alert wav: %w", err)
	}
	return nil
}

// Voice holds the decoded voice clips.
type Voice struct {
	clips map[string][]float64
}

// ErrMissingClip reports an alert naming a clip the voice does not have.
var ErrMissingClip = errors.New("voice clip missing")

// NewVoice decodes every clip in assets/sounds. It fails when a clip the
// alert policy may name (app.AllClips) is missing or is not mono 16 kHz.
func NewVoice() (*Voice, error) {
	v := &Voice{clips: map[string][]float64{}}
	for _, name := range assets.Clips() {
		b, err := assets.Clip(name)
		if err != nil {
			return nil, err
		}
		s, err := DecodeWAV(b)
		if err != nil {
			return nil, fmt.Errorf("assets/sounds/%s.wav: %w", name, err)
		}
		v.clips[name] = s
	}
	for _, name := range app.AllClips() {
		if _, ok := v.clips[name]; !ok {
			return nil, fmt.Errorf("assets/sounds/%s.wav: %w", name, ErrMissingClip)
		}
	}
	return v, nil
}

// Clip returns the samples of a clip (nil when there is none). The slice is
// shared: do not modify it.
func (v *Voice) Clip(name string) []float64 { return v.clips[name] }

// DecodeWAV decodes a mono 16 kHz WAV file into samples.
func DecodeWAV(b []byte) ([]float64, error) {
	st, f, err := wav.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode wav: %w", err)
	}
	defer st.Close()
	if f.SampleRate != SampleRate || f.NumChannels != 1 {
		return nil, fmt.Errorf("decode wav: %d Hz, %d channels; want %d Hz mono", f.SampleRate, f.NumChannels, SampleRate)
	}
	out := make([]float64, 0, st.Len())
	buf := make([][2]float64, 512)
	for {
		n, ok := st.Stream(buf)
		for _, s := range buf[:n] {
			out = append(out, s[0])
		}
		if !ok {
			break
		}
	}
	if err := st.Err(); err != nil {
		return nil, fmt.Errorf("decode wav: %w", err)
	}
	return out, nil
}

// beeps is a tone pattern: count beeps of freq Hz, on seconds each, off
// seconds between, optionally gliding to freq2.
type beeps struct {
	count       int
	freq, freq2 float64
	on, off     float64
}

// tonePattern returns the tone for an alert: faster, higher and more beeps
// for more urgent hits; a falling pair for a lost part and a rising one for
// its recovery.
func tonePattern(a app.Alert) (string, []beeps) {
	switch a.Kind {
	case app.AlertLost:
		return "tone:lost", []beeps{{1, 800, 800, 0.18, 0.04}, {1, 520, 520, 0.25, 0}}
	case app.AlertRestored:
		return "tone:restored", []beeps{{1, 520, 520, 0.18, 0.04}, {1, 800, 800, 0.25, 0}}
	}
	p := a.Priority
	switch {
	case p == 1:
		return "tone:p1", []beeps{{4, 1500, 1500, 0.11, 0.05}}
	case p == 2:
		return "tone:p2", []beeps{{3, 1250, 1250, 0.13, 0.07}}
	case p == 3:
		return "tone:p3", []beeps{{2, 1000, 1000, 0.15, 0.10}}
	case p >= 4 && p <= 6:
		return "tone:p" + strconv.Itoa(p), []beeps{{1, 880, 880, 0.25, 0}}
	}
	return "tone:p" + strconv.Itoa(max(p, 0)), []beeps{{1, 660, 660, 0.2, 0}}
}

// synth appends a beep pattern to out.
func synth(out []float64, pattern []beeps) []float64 {
	sr := float64(SampleRate)
	for _, b := range pattern {
		for i := 0; i < b.count; i++ {
			n := int(b.on * sr)
			fade := int(0.005 * sr) // 5 ms ramps: no clicks
			for k := 0; k < n; k++ {
				f := b.freq + (b.freq2-b.freq)*float64(k)/float64(n)
				env := 1.0
				if k < fade {
					env = float64(k) / float64(fade)
				} else if k >= n-fade {
					env = float64(n-1-k) / float64(fade)
				}
				out = append(out, toneAmp*env*math.Sin(2*math.Pi*f*float64(k)/sr))
			}
			if i < b.count-1 || b.off > 0 {
				out = silence(out, b.off)
			}
		}
	}
	return out
}

func silence(out []float64, seconds float64) []float64 {
	return append(out, make([]float64, int(seconds*float64(SampleRate)))...)
}

// Render turns an alert into samples: its tone, then its speech clips in
// order. A clip the voice lacks is an error wrapping ErrMissingClip.
func (v *Voice) Render(a app.Alert) (*Rendered, error) {
	r := &Rendered{}
	name, pattern := tonePattern(a)
	r.Samples = synth(r.Samples, pattern)
	r.Segments = append(r.Segments, Segment{Name: name, Start: 0, End: len(r.Samples)})
	for i, c := range a.Speech {
		s, ok := v.clips[c]
		if !ok {
			return nil, fmt.Errorf("render %s: %q: %w", a.Kind, c, ErrMissingClip)
		}
		gap := gapWord
		switch {
		case i == 0:
			gap = gapAfterTone
		case i <= 2 && (a.Kind == app.AlertHit || a.Kind == app.AlertPastHit || a.Kind == app.AlertRepeat):
			gap = gapSentence // after "Hit." and after the category
		}
		r.Samples = silence(r.Samples, gap)
		start := len(r.Samples)
		r.Samples = append(r.Samples, s...)
		r.Segments = append(r.Segments, Segment{Name: c, Start: start, End: len(r.Samples)})
	}
	r.Samples = silence(r.Samples, 0.1) // let the last word ring out before the next alert
	return r, nil
}

// monoStreamer streams mono samples to both channels.
type monoStreamer struct {
	s   []float64
	pos int
}

func (m *monoStreamer) Stream(samples [][2]float64) (int, bool) {
	if m.pos >= len(m.s) {
		return 0, false
	}
	n := copy2(samples, m.s[m.pos:])
	m.pos += n
	return n, true
}

func copy2(dst [][2]float64, src []float64) int {
	n := min(len(dst), len(src))
	for i := 0; i < n; i++ {
		dst[i] = [2]float64{src[i], src[i]}
	}
	return n
}

func (m *monoStreamer) Err() error    { return nil }
func (m *monoStreamer) Len() int      { return len(m.s) }
func (m *monoStreamer) Position() int { return m.pos }
func (m *monoStreamer) Seek(p int) error {
	if p < 0 || p > len(m.s) {
		return fmt.Errorf("seek %d of %d", p, len(m.s))
	}
	m.pos = p
	return nil
}
