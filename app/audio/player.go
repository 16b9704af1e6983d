package audio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gopxl/beep/v2"
	"github.com/gopxl/beep/v2/speaker"

	"github.com/ukanpr/anpr/app"
)

// Output plays rendered alerts. Play returns when the alert has been heard
// (or shown), or ctx is done.
type Output interface {
	Play(ctx context.Context, a app.Alert, r *Rendered) error
}

// Player implements app.Player: it renders each alert with Voice and hands
// it to Out.
type Player struct {
	Voice *Voice
	Out   Output
}

var _ app.Player = (*Player)(nil)

// Play renders and plays one alert.
func (p *Player) Play(ctx context.Context, a app.Alert) error {
	r, err := p.Voice.Render(a)
	if err != nil {
		return err
	}
	return p.Out.Play(ctx, a, r)
}

// Visual is the output of a car with no sound card: the alert is already on
// screen (the engine's events); Play only notes, once, that nobody hears it.
type Visual struct {
	Logger *slog.Logger // slog.Default() when nil
	Reason string       // why there is no sound, for the log
	once   sync.Once
}

// Play logs the first alert's fallback and returns at once.
func (v *Visual) Play(ctx context.Context, a app.Alert, r *Rendered) error {
	v.once.Do(func() {
		l := v.Logger
		if l == nil {
			l = slog.Default()
		}
		l.Warn("no sound: alerts are visual only", "reason", v.Reason)
	})
	return nil
}

// WAVDir writes each alert to a numbered WAV file in Dir: for checking
// what a car would say without a sound card.
type WAVDir struct {
	Dir string
	mu  sync.Mutex
	n   int
}

// Play writes the alert to Dir/NNNN-KIND.wav.
func (w *WAVDir) Play(ctx context.Context, a app.Alert, r *Rendered) error {
	w.mu.Lock()
	w.n++
	name := filepath.Join(w.Dir, fmt.Sprintf("%04d-%s.wav", w.n, a.Kind))
	w.mu.Unlock()
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("write alert: %w", err)
	}
	if err := r.WriteWAV(f); err != nil {
		f.Close()
		return fmt.Errorf("write alert %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write alert %s: %w", name, err)
	}
	return nil
}

// Detect reports whether the machine has an ALSA sound card that can play,
// looking under root ("/" on a car; a test's directory in tests): a card
// listed in proc/asound/cards and a playback PCM device dev/snd/pcmC*D*p.
// When it has none, reason says what is missing.
func Detect(root string) (ok bool, reason string) {
	cards, err := os.ReadFile(filepath.Join(root, "proc", "asound", "cards"))
	if err != nil {
		return false, "no ALSA: " + filepath.Join("/proc", "asound", "cards") + " is not readable"
	}
	if s := strings.TrimSpace(string(cards)); s == "" || strings.Contains(s, "no soundcards") {
		return false, "ALSA lists no sound card"
	}
	pcm, _ := filepath.Glob(filepath.Join(root, "dev", "snd", "pcmC*D*p"))
	if len(pcm) == 0 {
		return false, "no ALSA playback device in /dev/snd"
	}
	return true, ""
}

// speakerOnce guards beep's speaker, which may be initialised once per process.
var speakerOnce struct {
	sync.Mutex
	done bool
	err  error
}

// Speaker plays through the sound card with beep's speaker. An alert that
// does not finish within its length plus Slack (a card that accepts the
// stream but never plays it) abandons the speaker: that and every later
// alert fall back to Fallback, logged once.
type Speaker struct {
	Slack    time.Duration // default 3 s
	Fallback Output        // default: Visual
	Logger   *slog.Logger  // slog.Default() when nil

	mu   sync.Mutex
	dead bool

	// The speaker package's functions and a timer; tests replace them.
	play  func(...beep.Streamer)
	clear func()
	after func(time.Duration) <-chan time.Time
}

// initSpeaker starts beep's speaker at SampleRate with a 100 ms buffer.
func initSpeaker() error {
	speakerOnce.Lock()
	defer speakerOnce.Unlock()
	if !speakerOnce.done {
		speakerOnce.done = true
		speakerOnce.err = speaker.Init(SampleRate, SampleRate.N(100*time.Millisecond))
	}
	return speakerOnce.err
}

// Play plays r and waits for it.
func (s *Speaker) Play(ctx context.Context, a app.Alert, r *Rendered) error {
	s.mu.Lock()
	dead := s.dead
	s.mu.Unlock()
	if dead {
		return s.fallback().Play(ctx, a, r)
	}
	play, clear, after := speaker.Play, speaker.Clear, time.After
	if s.play != nil {
		play, clear, after = s.play, s.clear, s.after
	}
	done := make(chan struct{})
	play(beep.Seq(r.Streamer(), beep.Callback(func() { close(done) })))
	slack := s.Slack
	if slack <= 0 {
		slack = 3 * time.Second
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		clear()
		return ctx.Err()
	case <-after(SampleRate.D(len(r.Samples)) + slack):
	}
	clear()
	s.mu.Lock()
	s.dead = true
	s.mu.Unlock()
	s.logger().Error("sound card stopped playing; alerts are visual only from now on")
	return s.fallback().Play(ctx, a, r)
}

func (s *Speaker) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Speaker) fallback() Output {
	if s.Fallback == nil {
		s.Fallback = &Visual{Logger: s.Logger, Reason: "the sound card stopped playing"}
	}
	return s.Fallback
}

// ErrNoSound reports that the car cannot sound alerts.
var ErrNoSound = errors.New("no sound card")

// NewOutput returns the speaker when Detect("/") finds a sound card and beep
// starts on it, and a Visual output otherwise; the fallback and its reason
// are logged once, at the first alert.
func NewOutput(logger *slog.Logger) Output {
	return newOutput("/", logger)
}

func newOutput(root string, logger *slog.Logger) Output {
	if ok, reason := Detect(root); !ok {
		return &Visual{Logger: logger, Reason: reason}
	}
	if err := initSpeaker(); err != nil {
		return &Visual{Logger: logger, Reason: fmt.Errorf("%w: %w", ErrNoSound, err).Error()}
	}
	return &Speaker{Logger: logger}
}

// NewPlayer returns a player with the bundled voice and NewOutput.
func NewPlayer(logger *slog.Logger) (*Player, error) {
	v, err := NewVoice()
	if err != nil {
		return nil, err
	}
	return &Player{Voice: v, Out: NewOutput(logger)}, nil
}
