package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
)

// clock is a hand-moved clock for tests that never sleep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// locator answers a fixed position at whatever instant it is asked about,
// and remembers the instants.
type locator struct {
	mu    sync.Mutex
	asked []time.Time
}

func (l *locator) At(t time.Time) app.Position {
	l.mu.Lock()
	l.asked = append(l.asked, t)
	l.mu.Unlock()
	return app.Position{Time: t, Fix: app.Fix3D, Lat: 52.9225, Lon: -1.4746, Age: 200 * time.Millisecond,
		SpeedMPS: 13.4, HeadingDeg: 271.5, HDOP: 0.9, Sats: 9, AltM: math.NaN()}
}

// matcher matches candidates exactly against entries by VRM; entries may be
// added as the test goes (a changed hot list).
type matcher struct {
	mu      sync.Mutex
	entries []app.HotlistEntry
	err     error
}

func (m *matcher) add(e app.HotlistEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.ID == 0 {
		e.ID = int64(len(m.entries) + 1)
	}
	m.entries = append(m.entries, e)
}

func (m *matcher) Match(cs []app.Candidate, t time.Time) ([]app.Match, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	var out []app.Match
	for _, e := range m.entries {
		for _, c := range cs {
			if c.Text == e.VRM && !e.Expired(t) {
				out = append(out, app.Match{Entry: e, Kind: app.MatchExact, Candidate: c.Text})
				break
			}
		}
	}
	return out, nil
}

func (m *matcher) Reload(context.Context) error { return nil }

// store keeps reads and hits in memory, optionally failing the first saves,
// and checks that nothing about a read was published or queued before the
// read was committed.
type store struct {
	mu        sync.Mutex
	reads     []app.Read
	hits      map[string]app.Hit
	decisions []app.Decision
	audit     []app.AuditEvent
	wanted    []app.HotlistEntry
	onWanted  func(app.HotlistEntry) // what Reload would then see
	fail      int
	before    func(r app.Read) // called inside SaveRead, before commit
}

func newStore() *store { return &store{hits: map[string]app.Hit{}} }

func (s *store) SaveRead(ctx context.Context, r app.Read, h *app.Hit) error {
	if s.before != nil {
		s.before(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("disk I/O error")
	}
	s.reads = append(s.reads, r)
	if h != nil {
		s.hits[r.ID] = *h
	}
	return nil
}

func (s *store) ReadsBetween(ctx context.Context, from, to time.Time) ([]app.Read, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []app.Read
	for _, r := range s.reads {
		if !r.Time.Before(from) && r.Time.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *store) HitOf(ctx context.Context, id string) (app.Hit, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hits[id]
	return h, ok, nil
}

func (s *store) SaveHit(ctx context.Context, h app.Hit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[h.ReadID] = h
	return nil
}

func (s *store) SaveDecision(ctx context.Context, d app.Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.hits[d.ReadID]; !ok {
		return errors.New("no such hit")
	}
	s.decisions = append(s.decisions, d)
	return nil
}

func (s *store) Audit(ctx context.Context, ev app.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit = append(s.audit, ev)
	return nil
}

func (s *store) AddWanted(ctx context.Context, e app.HotlistEntry) (app.HotlistEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.List = app.WantedListName
	e.ID = 1000 + int64(len(s.wanted))
	s.wanted = append(s.wanted, e)
	if s.onWanted != nil {
		s.onWanted(e)
	}
	return e, nil
}

var (
	_ app.ReadStore     = (*store)(nil)
	_ app.PastReads     = (*store)(nil)
	_ app.DecisionStore = (*store)(nil)
	_ app.Auditor       = (*store)(nil)
	_ app.WantedStore   = (*store)(nil)
	_ app.Matcher       = (*matcher)(nil)
	_ app.Locator       = (*locator)(nil)
)

type rig struct {
	e   *app.Engine
	clk *clock
	loc *locator
	m   *matcher
	st  *store
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{clk: newClock(), loc: &locator{}, m: &matcher{}, st: newStore()}
	r.e = &app.Engine{
		Locator: r.loc, Matcher: r.m, Store: r.st,
		Decisions: r.st, Auditor: r.st, Wanted: r.st, Reloader: r.m, Past: r.st,
		Now: r.clk.Now, Logger: quiet(),
		After: func(time.Duration) <-chan time.Time {
			c := make(chan time.Time, 1)
			c <- time.Time{}
			return c
		},
	}
	return r
}

func sighting(vrm string, t time.Time) app.Sighting {
	return app.Sighting{Camera: "front", Time: t, Raw: vrm, Text: vrm, Confidence: 0.97,
		Candidates: []app.Candidate{{Text: vrm, Confidence: 0.97}}, Format: app.FormatCurrent,
		Patch: []byte{0xff, 0xd8}, PassID: "p-" + vrm}
}

// drain returns the events waiting on s without blocking.
func drain(s *app.Subscription) []app.Event {
	var out []app.Event
	for {
		select {
		case ev, ok := <-s.C:
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

func types(evs []app.Event) string {
	var s []string
	for _, ev := range evs {
		s = append(s, string(ev.Type))
	}
	return strings.Join(s, ",")
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := app.NewUUID()
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV4.MatchString(id) {
			t.Fatalf("%q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("%q twice", id)
		}
		seen[id] = true
	}
}

func TestProcessGeotagsMatchesCommitsThenPublishes(t *testing.T) {
	r := newRig(t)
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "AB12CDE", Category: "stolen", Priority: 1, Action: "Stop"})
	r.e.Clock = app.ClockFunc(func() app.ClockReading {
		return app.ClockReading{Source: app.ClockGPS, Offset: 1500 * time.Millisecond}
	})
	sub := r.e.Subscribe(16)
	// Inside the commit nothing about the read may be visible yet.
	r.st.before = func(rd app.Read) {
		if evs := drain(sub); len(evs) != 0 {
			t.Errorf("events published before the read was committed: %s", types(evs))
		}
		if n := len(r.e.Pending()); n != 0 {
			t.Errorf("%d hits pending before the read was committed", n)
		}
	}
	capture := r.clk.Now().Add(-300*time.Millisecond + 123456) // sub-millisecond part is cut
	rd, hit, err := r.e.Process(context.Background(), sighting("AB12CDE", capture))
	if err != nil {
		t.Fatal(err)
	}
	r.st.before = nil
	if !uuidV4.MatchString(rd.ID) {
		t.Errorf("read id %q is not a UUIDv4", rd.ID)
	}
	if want := capture.Truncate(time.Millisecond); !rd.Time.Equal(want) {
		t.Errorf("read time %v, want %v", rd.Time, want)
	}
	if got, want := r.loc.asked[0], rd.Time.Add(1500*time.Millisecond); !got.Equal(want) {
		t.Errorf("geotagged at %v, want capture time on the GPS axis %v", got, want)
	}
	if rd.ClockSource != app.ClockGPS || rd.ClockOffset != 1500*time.Millisecond || rd.ClockSuspect {
		t.Errorf("clock %s %v %v", rd.ClockSource, rd.ClockOffset, rd.ClockSuspect)
	}
	if rd.Position.Fix != app.Fix3D || rd.Camera != "front" || rd.PassID != "p-AB12CDE" || len(rd.Patch) != 2 {
		t.Errorf("read %+v", rd)
	}
	if hit == nil || len(hit.Matches) != 1 || hit.ReadID != rd.ID {
		t.Fatalf("hit %+v", hit)
	}
	if len(r.st.reads) != 1 || r.st.hits[rd.ID].ReadID != rd.ID {
		t.Fatalf("store has %d reads, hit %+v", len(r.st.reads), r.st.hits[rd.ID])
	}
	evs := drain(sub)
	if got := types(evs); got != "read,hit" {
		t.Fatalf("events %s, want read,hit", got)
	}
	if evs[1].Alert == nil || evs[1].Alert.Text != "Hit. Stolen vehicle. Alpha Bravo One Two Charlie Delta Echo." {
		t.Errorf("hit alert %+v", evs[1].Alert)
	}
	if evs[0].Seq >= evs[1].Seq {
		t.Errorf("sequence %d then %d", evs[0].Seq, evs[1].Seq)
	}
	if q := r.e.QueuedAlerts(); len(q) != 1 || q[0].Kind != app.AlertHit {
		t.Errorf("queued alerts %+v", q)
	}
	if p := r.e.Pending(); len(p) != 1 || p[0].Read.ID != rd.ID {
		t.Errorf("pending %+v", p)
	}
}

func TestProcessNoMatchNoHit(t *testing.T) {
	r := newRig(t)
	sub := r.e.Subscribe(0)
	rd, hit, err := r.e.Process(context.Background(), sighting("XY51ABC", r.clk.Now()))
	if err != nil || hit != nil {
		t.Fatalf("hit %+v err %v", hit, err)
	}
	evs := drain(sub)
	if types(evs) != "read" || evs[0].Read.ID != rd.ID || evs[0].Hit != nil {
		t.Fatalf("events %s", types(evs))
	}
	if rd.ClockSource != app.ClockSystem {
		t.Errorf("clock source %s with no clock", rd.ClockSource)
	}
}

func TestProcessMatcherErrorStillStoresRead(t *testing.T) {
	r := newRig(t)
	r.m.err = errors.New("index corrupt")
	if _, _, err := r.e.Process(context.Background(), sighting("XY51ABC", r.clk.Now())); err != nil {
		t.Fatal(err)
	}
	if len(r.st.reads) != 1 {
		t.Fatalf("%d reads stored", len(r.st.reads))
	}
}

func TestProcessRetriesFailingStore(t *testing.T) {
	r := newRig(t)
	r.st.fail = 3
	sub := r.e.Subscribe(0)
	if _, _, err := r.e.Process(context.Background(), sighting("XY51ABC", r.clk.Now())); err != nil {
		t.Fatal(err)
	}
	if len(r.st.reads) != 1 {
		t.Fatalf("%d reads stored", len(r.st.reads))
	}
	var states []string
	for _, ev := range drain(sub) {
		if ev.Type == app.EventStatus {
			states = append(states, string(ev.Status.Part)+"="+string(ev.Status.State))
		}
	}
	if got := strings.Join(states, ","); got != "store=lost,store=ok" {
		t.Errorf("store status %s, want lost once then ok", got)
	}
}

func TestProcessGivesUpOnlyWhenCancelled(t *testing.T) {
	r := newRig(t)
	r.st.fail = 1 << 30
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	r.e.After = func(time.Duration) <-chan time.Time {
		calls++
		if calls == 5 {
			cancel()
		}
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	_, _, err := r.e.Process(ctx, sighting("XY51ABC", r.clk.Now()))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want cancelled", err)
	}
	if calls < 5 {
		t.Errorf("gave up after %d retries", calls)
	}
}

func TestCovertHitStoredButSilent(t *testing.T) {
	r := newRig(t)
	r.m.add(app.HotlistEntry{List: "intel", VRM: "CV05ERT", Category: "intelligence", Priority: 1, Covert: true})
	sub := r.e.Subscribe(0)
	rd, hit, err := r.e.Process(context.Background(), sighting("CV05ERT", r.clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if hit == nil || r.st.hits[rd.ID].ReadID == "" {
		t.Fatal("covert hit not stored")
	}
	evs := drain(sub)
	if types(evs) != "read" {
		t.Errorf("events %s, want only the read", types(evs))
	}
	if len(evs[0].Visible()) != 0 {
		t.Errorf("covert match visible: %+v", evs[0].Visible())
	}
	if q := r.e.QueuedAlerts(); len(q) != 0 {
		t.Errorf("alerts %+v", q)
	}
	if p := r.e.Pending(); len(p) != 0 {
		t.Errorf("pending %+v", p)
	}
}

func TestSlowSubscriberNeverBlocksAndKeepsHits(t *testing.T) {
	r := newRig(t)
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "HH11HIT", Category: "wanted", Priority: 2})
	sub := r.e.Subscribe(3)
	for i := range 10 {
		vrm := fmt.Sprintf("AA%02dAAA", i)
		if i == 2 {
			vrm = "HH11HIT"
		}
		if _, _, err := r.e.Process(context.Background(), sighting(vrm, r.clk.Now())); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-sub.Wake:
	default:
		t.Fatal("no wake-up after dropping events")
	}
	dropped, lagged := sub.Lagged()
	if !lagged || dropped != 11-3+0 { // 11 events (10 reads + 1 hit), 3 kept
		t.Errorf("dropped %d lagged %v, want 8 true", dropped, lagged)
	}
	if _, lagged := sub.Lagged(); lagged {
		t.Error("lagged not reset")
	}
	evs := drain(sub)
	if len(evs) != 3 || evs[2].Read.VRM != "AA09AAA" {
		t.Errorf("kept %s, want the newest 3", types(evs))
	}
	p := r.e.Pending()
	if len(p) != 1 || p[0].Read.VRM != "HH11HIT" {
		t.Fatalf("pending %+v: the dropped hit must stay pending", p)
	}
	if err := r.e.Acknowledge(p[0].Read.ID); err != nil {
		t.Fatal(err)
	}
	if p := r.e.Pending(); len(p) != 1 || !p[0].Acknowledged {
		t.Errorf("pending after acknowledge %+v: want it kept, acknowledged, until decided", p)
	}
	if err := r.e.Acknowledge(p[0].Read.ID); err != nil {
		t.Errorf("second acknowledge: %v", err)
	}
	if err := r.e.Acknowledge("no-such-read"); !errors.Is(err, app.ErrNoHit) {
		t.Errorf("acknowledge unknown read: %v", err)
	}
}

func TestPendingOrder(t *testing.T) {
	r := newRig(t)
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "LO11PRI", Category: "no insurance", Priority: 5})
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "HI11PRI", Category: "stolen", Priority: 1})
	for _, v := range []string{"LO11PRI", "HI11PRI"} {
		if _, _, err := r.e.Process(context.Background(), sighting(v, r.clk.Now())); err != nil {
			t.Fatal(err)
		}
		r.clk.Add(time.Second)
	}
	p := r.e.Pending()
	if len(p) != 2 || p[0].Read.VRM != "HI11PRI" {
		t.Fatalf("pending order %v", p)
	}
}

func TestDecide(t *testing.T) {
	r := newRig(t)
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "AB12CDE", Category: "stolen", Priority: 1})
	rd, _, err := r.e.Process(context.Background(), sighting("AB12CDE", r.clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	sub := r.e.Subscribe(0)
	tests := []struct {
		name string
		d    app.Decision
		off  string
		want string // error substring; "" for success
	}{
		{"no officer", app.Decision{ReadID: rd.ID, Outcome: app.OutcomeConfirmed}, "", "no officer"},
		{"bad outcome", app.Decision{ReadID: rd.ID, Outcome: "arrested"}, "4521", "not one of"},
		{"other without reason", app.Decision{ReadID: rd.ID, Outcome: app.OutcomeOther}, "4521", "needs a reason"},
		{"unknown hit", app.Decision{ReadID: "nope", Outcome: app.OutcomeMisread}, "4521", "no such hit"},
		{"confirmed", app.Decision{ReadID: rd.ID, Outcome: app.OutcomeConfirmed}, "4521", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r.e.LogOn(app.Officer{ID: tc.off})
			err := r.e.Decide(context.Background(), tc.d)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if len(r.st.decisions) != 1 || r.st.decisions[0].Officer != "4521" || !r.st.decisions[0].Time.Equal(r.clk.Now()) {
		t.Fatalf("decisions %+v", r.st.decisions)
	}
	if len(r.e.Pending()) != 0 {
		t.Error("decided hit still pending")
	}
	if got := types(drain(sub)); got != "decision" {
		t.Errorf("events %s", got)
	}
}

func TestCheck(t *testing.T) {
	r := newRig(t)
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "AB12CDE", Category: "stolen", Priority: 1})
	r.m.add(app.HotlistEntry{List: "intel", VRM: "AB12CDE", Category: "intel", Priority: 1, Covert: true})
	r.e.LogOn(app.Officer{ID: "4521"})
	ms, err := r.e.Check(context.Background(), "ab12 cde")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Entry.List != "pnc" {
		t.Errorf("matches %+v: want the visible one only", ms)
	}
	if len(r.st.audit) != 1 || r.st.audit[0].Action != "check" || r.st.audit[0].Detail != "AB12CDE" || r.st.audit[0].Actor != "4521" {
		t.Errorf("audit %+v", r.st.audit)
	}
	if _, err := r.e.Check(context.Background(), "AB12;DROP"); !errors.Is(err, app.ErrInvalidVRM) {
		t.Errorf("bad mark: %v", err)
	}
}

func TestStatusPublishedOnChangeAndRefresh(t *testing.T) {
	r := newRig(t)
	r.e.StatusRefresh = 10 * time.Second
	sub := r.e.Subscribe(0)
	gps := func(state app.PartState, age time.Duration) {
		r.e.SetStatus(app.PartStatus{Part: app.PartGPS, State: state, Fix: app.Fix3D, FixAge: age})
	}
	gps(app.StateOK, 0) // first: published, silent
	r.clk.Add(time.Second)
	gps(app.StateOK, time.Second) // age only: not yet
	r.clk.Add(10 * time.Second)
	gps(app.StateOK, 2*time.Second)   // refresh due
	gps(app.StateLost, 3*time.Second) // change: published + announced
	gps(app.StateLost, 4*time.Second) // same: nothing
	gps(app.StateOK, 0)               // restored
	var got []string
	for _, ev := range drain(sub) {
		switch ev.Type {
		case app.EventStatus:
			got = append(got, "status:"+string(ev.Status.State))
		case app.EventAlert:
			got = append(got, "alert:"+ev.Alert.Text)
		}
	}
	want := "status:ok,status:ok,status:lost,alert:GPS lost.,status:ok,alert:GPS restored."
	if strings.Join(got, ",") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, ","), want)
	}
	if st := r.e.Status(); len(st) != 1 || st[0].State != app.StateOK {
		t.Errorf("status %+v", st)
	}
}

func TestTickRepeatsUntilAcknowledged(t *testing.T) {
	r := newRig(t)
	r.e.Alerts = &app.AlertPolicy{RepeatEvery: 20 * time.Second}
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "AB12CDE", Category: "firearms", Priority: 1})
	rd, _, err := r.e.Process(context.Background(), sighting("AB12CDE", r.clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	r.e.QueuedAlerts()
	ctx := context.Background()
	r.clk.Add(19 * time.Second)
	r.e.TickOnce(ctx)
	if q := r.e.QueuedAlerts(); len(q) != 0 {
		t.Fatalf("repeat too early: %+v", q)
	}
	r.clk.Add(time.Second)
	r.e.TickOnce(ctx)
	if q := r.e.QueuedAlerts(); len(q) != 1 || q[0].Kind != app.AlertRepeat || q[0].Repeat != 1 {
		t.Fatalf("repeat %+v", q)
	}
	if err := r.e.Acknowledge(rd.ID); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Minute)
	r.e.TickOnce(ctx)
	if q := r.e.QueuedAlerts(); len(q) != 0 {
		t.Fatalf("repeat after acknowledge: %+v", q)
	}
}

// player records what it plays.
type player struct {
	mu     sync.Mutex
	played []app.Alert
	done   chan struct{}
}

func (p *player) Play(ctx context.Context, a app.Alert) error {
	p.mu.Lock()
	p.played = append(p.played, a)
	p.mu.Unlock()
	p.done <- struct{}{}
	return nil
}

func TestStartRunsSightingsToPlayer(t *testing.T) {
	r := newRig(t)
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "AB12CDE", Category: "stolen", Priority: 1})
	pl := &player{done: make(chan struct{}, 4)}
	r.e.Player = pl
	r.e.Tick = time.Hour // the ticker never fires within the test
	sub := r.e.Subscribe(0)
	in := make(chan app.Sighting)
	if err := r.e.Start(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	in <- sighting("XY51ABC", r.clk.Now())
	in <- sighting("AB12CDE", r.clk.Now())
	close(in)
	if err := r.e.Wait(); err != nil {
		t.Fatal(err)
	}
	<-pl.done
	r.e.Stop()
	var evs []app.Event
	for ev := range sub.C { // closed by Stop
		evs = append(evs, ev)
	}
	if got := types(evs); got != "read,read,hit" {
		t.Errorf("events %s", got)
	}
	if len(pl.played) != 1 || pl.played[0].VRM != "AB12CDE" {
		t.Errorf("played %+v", pl.played)
	}
	if len(r.st.reads) != 2 {
		t.Errorf("%d reads stored", len(r.st.reads))
	}
}

func TestRecheckRaisesPastHitsOnce(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.e.LogOn(app.Officer{ID: "4521"}) // the shift starts now
	start := r.clk.Now()
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "OL05HIT", Category: "no insurance", Priority: 4})
	var live app.Read
	for i, v := range []string{"AB12CDE", "XY51ABC", "OL05HIT"} {
		r.clk.Add(time.Minute)
		rd, _, err := r.e.Process(ctx, sighting(v, r.clk.Now()))
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			live = rd
		}
	}
	// A read from before the shift (a previous officer's) is out of the window.
	r.st.reads = append(r.st.reads, app.Read{ID: "old", VRM: "AB12CDE", Time: start.Add(-time.Hour),
		Candidates: []app.Candidate{{Text: "AB12CDE", Confidence: 0.9}}})
	r.e.QueuedAlerts()
	if err := r.e.Acknowledge(live.ID); err != nil {
		t.Fatal(err)
	}
	sub := r.e.Subscribe(0)
	r.clk.Add(10 * time.Minute)

	// A new wanted entry for a mark read 12 minutes ago, and a second list
	// entry for the mark that already hit.
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "OL05HIT", Category: "wanted", Priority: 2, ID: 99})
	r.st.onWanted = r.m.add
	stored, n, err := r.e.AddWanted(ctx, app.HotlistEntry{VRM: "ab12 cde", Category: "wanted", Priority: 1})
	if err != nil {
		t.Fatal(err)
	}
	if stored.AddedBy != "4521" || stored.VRM != "AB12CDE" || stored.Expires.IsZero() {
		t.Errorf("stored entry %+v", stored)
	}
	if n != 2 {
		t.Fatalf("%d past hits, want 2 (AB12CDE new, OL05HIT on a new entry)", n)
	}
	evs := drain(sub)
	if types(evs) != "past-hit,past-hit" {
		t.Fatalf("events %s", types(evs))
	}
	byVRM := map[string]app.Event{}
	for _, ev := range evs {
		byVRM[ev.Read.VRM] = ev
	}
	ab := byVRM["AB12CDE"]
	if ab.Read.ID == "old" || !ab.Hit.Past || !ab.Hit.Time.Equal(r.clk.Now()) || ab.Read.Time.Equal(r.clk.Now()) {
		t.Errorf("AB12CDE past hit %+v %+v", ab.Read, ab.Hit)
	}
	if ab.Read.Position.Fix != app.Fix3D {
		t.Errorf("past hit lost its place: %+v", ab.Read.Position)
	}
	if ab.Alert == nil || ab.Alert.Kind != app.AlertPastHit || !strings.HasPrefix(ab.Alert.Text, "Past hit. Wanted. Alpha") {
		t.Errorf("alert %+v", ab.Alert)
	}
	ol := byVRM["OL05HIT"]
	if len(ol.Hit.Matches) != 2 {
		t.Errorf("OL05HIT stored hit has %d matches, want old + new", len(ol.Hit.Matches))
	}
	if h := r.st.hits[ol.Read.ID]; !h.Past || len(h.Matches) != 2 {
		t.Errorf("stored %+v", h)
	}
	if p := r.e.Pending(); len(p) != 2 || p[0].Acknowledged || p[1].Acknowledged {
		t.Errorf("pending %+v, want the 2 past hits, unacknowledged (OL05HIT has a new entry)", p)
	}
	// Nothing changed: nothing new.
	if n, err := r.e.Recheck(ctx); err != nil || n != 0 {
		t.Errorf("second re-check: %d %v", n, err)
	}
}

func TestRecheckWindow(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.e.PastWindow = 30 * time.Minute
	for _, ago := range []time.Duration{45 * time.Minute, 20 * time.Minute} {
		r.st.reads = append(r.st.reads, app.Read{ID: fmt.Sprint(ago), VRM: "AB12CDE",
			Time: r.clk.Now().Add(-ago), Candidates: []app.Candidate{{Text: "AB12CDE", Confidence: 0.9}}})
	}
	r.m.add(app.HotlistEntry{List: "pnc", VRM: "AB12CDE", Category: "stolen", Priority: 1})
	sub := r.e.Subscribe(0)
	if n, err := r.e.Recheck(ctx); err != nil || n != 1 {
		t.Fatalf("%d %v, want the read of 20 minutes ago only", n, err)
	}
	if evs := drain(sub); evs[0].Read.ID != (20 * time.Minute).String() {
		t.Errorf("raised %s", evs[0].Read.ID)
	}
}

// discard is a store that keeps nothing.
type discard struct{}

func (discard) SaveRead(context.Context, app.Read, *app.Hit) error { return nil }

// TestEngineMemoryFlat runs 30 reads/s for 10 minutes of (injected) time,
// a hit every 100 reads, acknowledged and decided by the officer, with a
// subscriber that has stopped reading: the engine's memory must not grow
// with the number of reads.
func TestEngineMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("18 000 reads")
	}
	clk := newClock()
	m := &matcher{}
	for i := range 200 {
		m.add(app.HotlistEntry{List: "pnc", VRM: fmt.Sprintf("HH%03dIT", i), Category: "stolen", Priority: 1 + i%9})
	}
	st := newStore()
	e := &app.Engine{Locator: &locator{}, Matcher: m, Store: discard{}, Decisions: decideAll{st}, Now: clk.Now, Logger: quiet()}
	sub := e.Subscribe(256) // never read
	ctx := context.Background()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	const perSecond, seconds = 30, 600
	var mid uint64
	for i := range perSecond * seconds {
		vrm := fmt.Sprintf("AB%02dCDE", i%100)
		if i%100 == 0 {
			vrm = fmt.Sprintf("HH%03dIT", i/100%200)
		}
		s := sighting(vrm, clk.Now())
		s.Patch = make([]byte, 32<<10)
		r, h, err := e.Process(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if h != nil {
			e.Acknowledge(r.ID)
			if err := e.Decide(ctx, app.Decision{ReadID: r.ID, Outcome: app.OutcomeConfirmed, Officer: "4521"}); err != nil {
				t.Fatal(err)
			}
		}
		e.QueuedAlerts()
		if i%perSecond == 0 {
			e.TickOnce(ctx)
		}
		clk.Add(time.Second / perSecond)
		if i == perSecond*seconds/2 {
			mid = heap()
		}
	}
	end := heap()
	runtime.KeepAlive(e) // measured alive, or the GC takes it all
	runtime.KeepAlive(sub)
	t.Logf("heap at 5 min %d KiB, at 10 min %d KiB", mid>>10, end>>10)
	if end > mid+2<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB over the second 5 minutes", mid>>10, end>>10)
	}
}

// decideAll accepts a decision on any read.
type decideAll struct{ *store }

func (decideAll) SaveDecision(context.Context, app.Decision) error { return nil }
