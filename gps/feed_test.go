package gps

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
)

// events collects a Feed's events and lets a test wait for one.
type events struct {
	mu  sync.Mutex
	all []Event
	ch  chan Event
}

func newEvents() *events { return &events{ch: make(chan Event, 1000)} }

func (e *events) on(ev Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
}

// wait returns the first event in state s, failing after a generous limit.
func (e *events) wait(t testing.TB, s State) Event {
	t.Helper()
	limit := time.After(20 * time.Second)
	for {
		select {
		case ev := <-e.ch:
			if ev.State == s {
				return ev
			}
		case <-limit:
			t.Fatalf("no %s event; saw %v", s, e.states())
		}
	}
}

func (e *events) states() []State {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s []State
	for _, ev := range e.all {
		s = append(s, ev.State)
	}
	return s
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "nmea", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nmeaOnly strips a log's '#' header.
func nmeaOnly(b []byte) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte("#")) {
			out = append(out, l...)
		}
	}
	return out
}

// immediate is an After that does not wait the first limit times (then
// waits forever), recording the backoffs asked for.
type immediate struct {
	mu      sync.Mutex
	limit   int
	waits   []time.Duration
	blocked chan struct{} // closed when the feed starts waiting forever
}

func (i *immediate) after(d time.Duration) <-chan time.Time {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.waits = append(i.waits, d)
	if len(i.waits) == i.limit+1 {
		close(i.blocked)
	}
	if len(i.waits) > i.limit {
		return nil
	}
	c := make(chan time.Time, 1)
	c <- time.Time{}
	return c
}

func TestFeedFileFast(t *testing.T) {
	ev := newEvents()
	var fixes []Fix
	tr := &Tracker{MinDate: GPSEpoch, OnEpoch: func(f Fix) { fixes = append(fixes, f) }}
	f := &Feed{Source: &File{Path: filepath.Join(repoRoot(t), "testdata", "nmea", "jl-micro-jlt.log")}, Tracker: tr, OnEvent: ev.on}
	if err := f.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, StateDone)
	f.Stop()
	tr.Flush()
	if len(fixes) != 8 || !fixes[0].Usable() || !fixes[7].Usable() {
		t.Errorf("got %d epochs (%+v), want 8 usable", len(fixes), fixes)
	}
	if st := f.Stats(); st.Proprietary != 1 || st.Used != 32 || st.GarbageBytes != 0 || st.Dropped() != 0 {
		t.Errorf("stats %s", st)
	}
	want := []State{StateConnecting, StateConnected, StateReceiving, StateDone}
	if got := ev.states(); !equalStates(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
}

func equalStates(a, b []State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFilePaced: the pacer waits as long as the receiver did between
// epochs (1 s each in this capture, at double speed), through an
// injected sleep.
func TestFilePaced(t *testing.T) {
	var waits []time.Duration
	src := &File{Path: filepath.Join(repoRoot(t), "testdata", "nmea", "jl-micro-jlt.log"), Paced: true, Speed: 2,
		Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	tr := &Tracker{MinDate: GPSEpoch}
	f := &Feed{Source: src, Tracker: tr}
	if _, err := f.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 7 {
		t.Fatalf("waited %d times, want 7 (8 epochs): %v", len(waits), waits)
	}
	for _, w := range waits {
		if w != 500*time.Millisecond {
			t.Errorf("waited %v, want 500ms", w)
		}
	}
}

// TestFeedTCPReconnects: a raw NMEA server that hangs up after each
// burst; the feed reconnects with doubling backoff, starts the backoff
// over after a connection that delivered, and keeps the fixes.
func TestFeedTCPReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := nmeaOnly(readFixture(t, "com-1289.log"))
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if i == 2 { // two hang-ups before the data, hang-ups after
				c.Write(data)
			}
			c.Close()
		}
	}()
	ev := newEvents()
	wait := immediate{limit: 3, blocked: make(chan struct{})}
	tr := &Tracker{MinDate: GPSEpoch}
	f := &Feed{Source: &TCP{Addr: ln.Addr().String()}, Tracker: tr, OnEvent: ev.on, After: wait.after, Logger: quiet,
		MinBackoff: time.Second, MaxBackoff: 4 * time.Second}
	f.Start(context.Background())
	select {
	case <-wait.blocked:
	case <-time.After(20 * time.Second):
		t.Fatalf("the feed never reached its fourth backoff; states %v", ev.states())
	}
	f.Stop()
	wait.mu.Lock()
	got := append([]time.Duration(nil), wait.waits...)
	wait.mu.Unlock()
	if len(got) != 4 || got[0] != time.Second || got[1] != 2*time.Second || got[2] != time.Second || got[3] != 2*time.Second {
		t.Errorf("backoffs %v, want 1s 2s (two hang-ups), 1s (after data), 2s", got)
	}
	if st := f.Stats(); st.BadChecksum != 1 || st.Proprietary == 0 {
		t.Errorf("stats %s; want the capture's one bad checksum counted", st)
	}
	if p := tr.At(time.Date(2007, 10, 12, 14, 37, 50, 770e6, time.UTC)); p.Fix != app.Fix3D {
		t.Errorf("At after TCP feed: %+v", p)
	}
	if s := ev.states(); s[len(s)-1] != StateStopped {
		t.Errorf("last state %s, want stopped", s[len(s)-1])
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestFeedIdleTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte(rmcOK))
		<-done // a receiver gone quiet, its connection held open
	}()
	f := &Feed{Source: &TCP{Addr: ln.Addr().String()}, Tracker: &Tracker{}, IdleTimeout: 100 * time.Millisecond}
	got, err := f.RunOnce(context.Background())
	if !got || !errors.Is(err, ErrIdle) {
		t.Errorf("got %v, %v; want a sentence then ErrIdle", got, err)
	}
}

func TestFeedUDP(t *testing.T) {
	src := &UDP{Addr: "127.0.0.1:0"}
	ev := newEvents()
	tr := &Tracker{MinDate: GPSEpoch}
	f := &Feed{Source: src, Tracker: tr, OnEvent: ev.on, IdleTimeout: -1}
	f.Start(context.Background())
	defer f.Stop()
	ev.wait(t, StateConnected)
	c, err := net.Dial("udp", src.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// One datagram per sentence, one without its line end.
	lines := strings.SplitAfter(string(nmeaOnly(readFixture(t, "ch-4711.log"))), "\n")
	for _, l := range lines[:20] {
		c.Write([]byte(strings.TrimRight(l, "\r\n")))
	}
	ev.wait(t, StateReceiving)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if p := tr.At(time.Date(2009, 12, 5, 13, 56, 52, 997e6, time.UTC)); p.Fix == app.Fix2D {
			return
		}
		c.Write([]byte(rmcOK)) // nudge: epochs close when the next begins
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("no 2D fix from UDP; stats %s", f.Stats())
}

func TestSerialRejectsBaud(t *testing.T) {
	_, err := (&Serial{Port: "/dev/null", Baud: 1234}).Open(context.Background())
	if !errors.Is(err, ErrBadBaud) {
		t.Errorf("got %v, want ErrBadBaud", err)
	}
}

// freePort asks the kernel for a free TCP port (never gpsd's 2947).
func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
