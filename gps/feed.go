package gps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// State is where a Feed's connection to its source stands.
type State string

// Feed states, in the order a connection goes through them.
const (
	StateConnecting State = "connecting" // opening the source
	StateConnected  State = "connected"  // open; NMEA may or may not be flowing
	StateReceiving  State = "receiving"  // the first usable sentence arrived
	StateLost       State = "lost"       // open failed, the stream ended or went silent: backing off
	StateDone       State = "done"       // a file replay reached its end
	StateStopped    State = "stopped"    // Stop was called
)

// Event is one change of a Feed's state.
type Event struct {
	Source  string
	State   State
	Err     error         // why, for StateLost
	Backoff time.Duration // the wait before the next attempt, for StateLost
	Time    time.Time
}

// Defaults for a Feed's zero fields.
const (
	DefaultMinBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	DefaultIdleTimeout = 5 * time.Second
)

// ErrIdle is the loss reported when a source stays open but sends no
// usable sentence for IdleTimeout.
var ErrIdle = errors.New("no NMEA within the idle timeout")

// Feed carries one Source into a Tracker on a goroutine it owns, reopening
// the source with exponential backoff whenever it fails or goes silent.
// Set the fields, then Start; Stop cancels and waits.
type Feed struct {
	Source  Source
	Tracker *Tracker
	// OnEvent is told of each state change, on the Feed's goroutine; it
	// must not block (send to a buffered channel or set a binding).
	OnEvent func(Event)

	MinBackoff  time.Duration // DefaultMinBackoff when 0
	MaxBackoff  time.Duration // DefaultMaxBackoff when 0
	IdleTimeout time.Duration // DefaultIdleTimeout when 0; negative: never; files: never
	Now         func() time.Time
	// After waits for a backoff; tests replace it so they never sleep.
	After func(time.Duration) <-chan time.Time
	// Logger gets one line per loss; slog.Default when nil.
	Logger *slog.Logger

	mu     sync.Mutex
	stats  Stats // closed connections
	live   Stats // the open connection
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start begins feeding in the background.
func (f *Feed) Start(ctx context.Context) error {
	if f.Source == nil || f.Tracker == nil {
		return errors.New("gps feed: Source and Tracker are required")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel != nil {
		return errors.New("gps feed: already started")
	}
	ctx, f.cancel = context.WithCancel(ctx)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.run(ctx)
	}()
	return nil
}

// Stop ends the feed and waits for its goroutine.
func (f *Feed) Stop() error {
	f.mu.Lock()
	cancel := f.cancel
	f.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	f.wg.Wait()
	return nil
}

// Stats returns the decoder counts summed over every connection so far,
// the open one included.
func (f *Feed) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats.Add(f.live)
}

func (f *Feed) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Feed) event(e Event) {
	e.Source, e.Time = f.Source.String(), f.now()
	if f.OnEvent != nil {
		f.OnEvent(e)
	}
}

func (f *Feed) run(ctx context.Context) {
	minB, maxB := f.MinBackoff, f.MaxBackoff
	if minB <= 0 {
		minB = DefaultMinBackoff
	}
	if maxB <= 0 {
		maxB = DefaultMaxBackoff
	}
	backoff := minB
	for {
		got, err := f.RunOnce(ctx)
		if ctx.Err() != nil {
			f.event(Event{State: StateStopped})
			return
		}
		if fin, ok := f.Source.(finite); ok && fin.finite() && err == nil {
			f.event(Event{State: StateDone})
			return
		}
		if got {
			backoff = minB // it worked for a while: start over
		}
		if err == nil {
			err = io.EOF
		}
		f.event(Event{State: StateLost, Err: err, Backoff: backoff})
		f.logger().Warn("gps source lost", "source", f.Source.String(), "err", err, "retry_in", backoff)
		after := f.After
		if after == nil {
			after = time.After
		}
		select {
		case <-ctx.Done():
			f.event(Event{State: StateStopped})
			return
		case <-after(backoff):
		}
		backoff = min(backoff*2, maxB)
	}
}

func (f *Feed) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// RunOnce opens the source once and feeds it until it ends, fails, goes
// silent or ctx is done; got reports whether any usable sentence arrived.
// The end of a finite source returns a nil error.
func (f *Feed) RunOnce(ctx context.Context) (got bool, err error) {
	f.event(Event{State: StateConnecting})
	rc, err := f.Source.Open(ctx)
	if err != nil {
		return false, err
	}
	f.event(Event{State: StateConnected})
	var (
		closeOnce sync.Once
		idle      bool
		mu        sync.Mutex
	)
	closeRC := func() { closeOnce.Do(func() { rc.Close() }) }
	defer closeRC()
	stopWatch := context.AfterFunc(ctx, closeRC) // unblock a Read on cancel
	defer stopWatch()
	var timer *time.Timer
	_, isFinite := f.Source.(finite)
	if f.IdleTimeout >= 0 && !isFinite { // a paced log may pause longer, by design
		d := f.IdleTimeout
		if d == 0 {
			d = DefaultIdleTimeout
		}
		timer = time.AfterFunc(d, func() {
			mu.Lock()
			idle = true
			mu.Unlock()
			closeRC()
		})
		defer timer.Stop()
	}
	d := NewDecoder(rc)
	_, d.Comments = f.Source.(*File)
	defer func() {
		f.mu.Lock()
		f.stats = f.stats.Add(d.Stats())
		f.live = Stats{}
		f.mu.Unlock()
	}()
	var rep Report
	for {
		err := d.Next(&rep)
		if err != nil {
			mu.Lock()
			wasIdle := idle
			mu.Unlock()
			switch {
			case ctx.Err() != nil:
				return got, ctx.Err()
			case wasIdle:
				return got, ErrIdle
			case errors.Is(err, io.EOF):
				if _, ok := f.Source.(finite); ok {
					return got, nil
				}
				return got, fmt.Errorf("%s: stream ended", f.Source)
			}
			return got, err
		}
		if timer != nil {
			timer.Reset(f.idle())
		}
		if !got {
			got = true
			if l, ok := f.Source.(locker); ok {
				l.sawNMEA()
			}
			f.event(Event{State: StateReceiving})
		}
		f.Tracker.Update(&rep, f.now())
		f.mu.Lock()
		f.live = d.Stats()
		f.mu.Unlock()
	}
}

func (f *Feed) idle() time.Duration {
	if f.IdleTimeout == 0 {
		return DefaultIdleTimeout
	}
	return f.IdleTimeout
}
