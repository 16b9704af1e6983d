package ui_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/test"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/ui"
	"github.com/ukanpr/anpr/app/ui/mock"
)

func get(t *testing.T, s binding.String) string {
	t.Helper()
	v, err := s.Get()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestViewModelEvents(t *testing.T) {
	test.NewTempApp(t)
	covert := exactHit(t, "r-covert", "CV11ERT", 1)
	covert.Hit.Matches[0].Entry.Covert = true
	withLookalike := lookalikeHit(t)
	readOfHit := app.Event{Type: app.EventRead, Read: withLookalike.Read, Hit: withLookalike.Hit}

	tests := []struct {
		name     string
		events   []app.Event
		reads    []string // VRM+mark, newest first
		hits     []string // read ids, most urgent first
		wantText map[string]string
		alarm    bool
	}{
		{
			name:   "plain read",
			events: []app.Event{{Type: app.EventRead, Read: read("r1", "AB12CDE", t0, nil)}},
			reads:  []string{"AB12CDE"},
		},
		{
			name:   "read of a look-alike hit carries its mark",
			events: []app.Event{readOfHit},
			reads:  []string{"SB90TZI≈"},
		},
		{
			name:   "newest read first, repeats merged",
			events: []app.Event{{Type: app.EventRead, Read: read("r1", "AB12CDE", t0, nil)}, {Type: app.EventRead, Read: read("r2", "XY34ZZZ", t0, nil)}, {Type: app.EventRead, Read: read("r1", "AB12CDE", t0, nil)}},
			reads:  []string{"AB12CDE", "XY34ZZZ"},
		},
		{
			name:   "hit joins the queue",
			events: []app.Event{withLookalike},
			hits:   []string{"r-look"},
		},
		{
			name:   "covert-only hit never shows in the car",
			events: []app.Event{covert},
		},
		{
			name:   "hits ordered by priority, then age",
			events: []app.Event{exactHit(t, "r-p4", "LO44WER", 4), exactHit(t, "r-p2", "HI22GHR", 2), lookalikeHit(t)},
			hits:   []string{"r-look", "r-p2", "r-p4"},
		},
		{
			name:   "a decision (made anywhere) takes the hit away",
			events: []app.Event{exactHit(t, "r-p4", "LO44WER", 4), lookalikeHit(t), {Type: app.EventDecision, ReadID: "r-look"}},
			hits:   []string{"r-p4"},
		},
		{
			name:   "an acknowledgement keeps the hit until decided",
			events: []app.Event{lookalikeHit(t), {Type: app.EventAck, ReadID: "r-look"}},
			hits:   []string{"r-look"},
		},
		{
			name:   "status bar",
			events: statusEvents(),
			wantText: map[string]string{
				"camera": "Camera front 25 fps", "gps": "GPS 3D · 0.4 s", "clock": "Clock +120 ms",
				"hotlist": "Hot list 12,345 · 2 h", "sync": "Sync 3 queued · link up",
			},
		},
		{
			name: "lost parts turn the bar red",
			events: append(statusEvents(),
				app.Event{Type: app.EventStatus, Status: &app.PartStatus{Part: app.PartSync, State: app.StateLost, Pending: 40}},
				app.Event{Type: app.EventStatus, Status: &app.PartStatus{Part: app.PartGPS, State: app.StateLost, Fix: app.FixNone}},
				app.Event{Type: app.EventStatus, Status: &app.PartStatus{Part: app.PartClock, State: app.StateDegraded, ClockSource: app.ClockSystem, ClockOffset: -2500 * time.Millisecond, ClockSuspect: true}},
			),
			wantText: map[string]string{"sync": "Sync 40 queued · link down", "gps": "GPS no fix", "clock": "Clock −2.5 s (system) !"},
			alarm:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm := ui.NewViewModel(&mock.Backend{}, fixedNow)
			for _, ev := range tt.events {
				vm.Apply(ev)
			}
			rs, _ := vm.Reads.Get()
			var reads []string
			for _, r := range rs {
				reads = append(reads, r.VRM+r.Mark)
			}
			if fmt.Sprint(reads) != fmt.Sprint(tt.reads) {
				t.Errorf("reads = %v, want %v", reads, tt.reads)
			}
			hs, _ := vm.Hits.Get()
			var hits []string
			for _, h := range hs {
				hits = append(hits, h.Read.ID)
			}
			if fmt.Sprint(hits) != fmt.Sprint(tt.hits) {
				t.Errorf("hits = %v, want %v", hits, tt.hits)
			}
			texts := map[string]binding.String{"camera": vm.CameraText, "gps": vm.GPSText, "clock": vm.ClockText, "hotlist": vm.HotlistText, "sync": vm.SyncText}
			for k, want := range tt.wantText {
				if got := get(t, texts[k]); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if alarm, _ := vm.Alarm.Get(); alarm != tt.alarm {
				t.Errorf("alarm = %v, want %v", alarm, tt.alarm)
			}
		})
	}
}

func TestViewModelKeepsMaxReads(t *testing.T) {
	test.NewTempApp(t)
	vm := ui.NewViewModel(&mock.Backend{}, fixedNow)
	vm.MaxReads = 5
	for i := 0; i < 12; i++ {
		vm.Apply(app.Event{Type: app.EventRead, Read: read(fmt.Sprint("r", i), fmt.Sprintf("AB%02dCDE", i), t0, nil)})
	}
	rs, _ := vm.Reads.Get()
	if len(rs) != 5 || rs[0].VRM != "AB11CDE" || rs[4].VRM != "AB07CDE" {
		t.Fatalf("reads = %+v, want the newest five, newest first", rs)
	}
}

// TestViewModelRunsOnTheRealEngine feeds sightings through app.Engine and
// checks the view model follows it: the read, the hit, the decision.
func TestViewModelRunsOnTheRealEngine(t *testing.T) {
	test.NewTempApp(t)
	var decided []app.Decision
	eng := &app.Engine{
		Locator:   locatorFunc(func(time.Time) app.Position { return position(52.9, -1.47, 10) }),
		Matcher:   matcherFunc(matchAB12CDE),
		Store:     storeFunc(func(context.Context, app.Read, *app.Hit) error { return nil }),
		Decisions: decisionFunc(func(_ context.Context, d app.Decision) error { decided = append(decided, d); return nil }),
		Now:       fixedNow,
	}
	b := engineBackend(eng)
	vm := ui.NewViewModel(b, fixedNow)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	sub := make(chan struct{})
	b.SubscribeFn = func(buf int) *app.Subscription { defer close(sub); return eng.Subscribe(buf) }
	go func() { done <- vm.Run(ctx) }()
	<-sub

	for _, s := range []string{"XY99ZZZ", "AB12CDE"} {
		if _, _, err := eng.Process(ctx, app.Sighting{Camera: "front", Time: t0, Text: s, Raw: s, Confidence: 0.9,
			Candidates: []app.Candidate{{Text: s, Confidence: 0.9}}, PassID: s}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the hit", func() bool { return vm.Hits.Length() == 1 })
	waitFor(t, "both reads", func() bool { return vm.Reads.Length() == 2 })
	if err := vm.LogOn(ctx, "1234", "4321"); err != nil {
		t.Fatal(err)
	}
	if err := vm.Decide(ctx, app.OutcomeConfirmed, ""); err != nil {
		t.Fatal(err)
	}
	if len(decided) != 1 || decided[0].Outcome != app.OutcomeConfirmed || decided[0].Officer != "1234" {
		t.Fatalf("decisions stored = %+v", decided)
	}
	if n := len(eng.Pending()); n != 0 {
		t.Errorf("engine still has %d pending hits after the decision", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type locatorFunc func(time.Time) app.Position

func (f locatorFunc) At(t time.Time) app.Position { return f(t) }

type matcherFunc func([]app.Candidate, time.Time) ([]app.Match, error)

func (f matcherFunc) Match(c []app.Candidate, t time.Time) ([]app.Match, error) { return f(c, t) }

func matchAB12CDE(cs []app.Candidate, _ time.Time) ([]app.Match, error) {
	for _, c := range cs {
		if c.Text == "AB12CDE" {
			return []app.Match{{Entry: entry("AB12CDE", "Stolen vehicle", 2), Kind: app.MatchExact, Candidate: c.Text}}, nil
		}
	}
	return nil, nil
}

type storeFunc func(context.Context, app.Read, *app.Hit) error

func (f storeFunc) SaveRead(ctx context.Context, r app.Read, h *app.Hit) error { return f(ctx, r, h) }

type decisionFunc func(context.Context, app.Decision) error

func (f decisionFunc) SaveDecision(ctx context.Context, d app.Decision) error { return f(ctx, d) }

// engineBackend wires an engine into a mock backend the way cmd/anpr's
// adapter does: the engine's own methods for events and officer actions.
func engineBackend(eng *app.Engine) *mock.Backend {
	b := newBackend(&calls{})
	b.SubscribeFn = eng.Subscribe
	b.UnsubscribeFn = eng.Unsubscribe
	b.PendingFn = eng.Pending
	b.StatusFn = eng.Status
	b.LogOnFn = eng.LogOn
	b.AcknowledgeFn = eng.Acknowledge
	b.DecideFn = eng.Decide
	b.CheckFn = eng.Check
	b.AddWantedFn = eng.AddWanted
	return b
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		logon   bool
		outcome app.Outcome
		reason  string
		wantErr error
	}{
		{"confirmed", true, app.OutcomeConfirmed, "", nil},
		{"misread", true, app.OutcomeMisread, "", nil},
		{"not stopped", true, app.OutcomeNotStopped, "", nil},
		{"other with reason", true, app.OutcomeOther, "Lost sight", nil},
		{"other without reason", true, app.OutcomeOther, "  ", ui.ErrNeedReason},
		{"nobody logged on", false, app.OutcomeConfirmed, "", ui.ErrNotLoggedOn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			test.NewTempApp(t)
			var c calls
			vm := ui.NewViewModel(newBackend(&c), fixedNow)
			if tt.logon {
				if err := vm.LogOn(context.Background(), "1234", "4321"); err != nil {
					t.Fatal(err)
				}
			}
			vm.Apply(lookalikeHit(t))
			err := vm.Decide(context.Background(), tt.outcome, tt.reason)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decide = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if len(c.decisions) != 0 || vm.Hits.Length() != 1 {
					t.Fatalf("a refused decision reached the backend (%v) or cleared the hit", c.decisions)
				}
				return
			}
			want := app.Decision{ReadID: "r-look", Outcome: tt.outcome, Reason: strings.TrimSpace(tt.reason), Officer: "1234", Time: t0}
			if len(c.decisions) != 1 || c.decisions[0] != want {
				t.Fatalf("decisions = %+v, want %+v", c.decisions, want)
			}
			if vm.Hits.Length() != 0 {
				t.Fatal("decided hit still queued")
			}
		})
	}
}

func TestAddWanted(t *testing.T) {
	tests := []struct {
		name    string
		w       ui.Wanted
		wantErr error
	}{
		{"100 days is the most", ui.Wanted{VRM: "ab12 cde", Category: "Stolen", Reason: "seen at burglary", Days: 100}, nil},
		{"101 days is too long", ui.Wanted{VRM: "AB12CDE", Category: "Stolen", Reason: "x", Days: 101}, ui.ErrExpiry},
		{"0 days", ui.Wanted{VRM: "AB12CDE", Category: "Stolen", Reason: "x", Days: 0}, ui.ErrExpiry},
		{"category needed", ui.Wanted{VRM: "AB12CDE", Reason: "x", Days: 7}, ui.ErrCategory},
		{"not a VRM", ui.Wanted{VRM: "AB/12", Category: "Stolen", Reason: "x", Days: 7}, app.ErrInvalidVRM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			test.NewTempApp(t)
			var c calls
			vm := ui.NewViewModel(newBackend(&c), fixedNow)
			if err := vm.LogOn(context.Background(), "1234", "4321"); err != nil {
				t.Fatal(err)
			}
			past, err := vm.AddWanted(context.Background(), tt.w)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AddWanted = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if len(c.wanted) != 0 {
					t.Fatal("refused entry reached the backend")
				}
				return
			}
			e := c.wanted[0]
			if past != 1 || e.VRM != "AB12CDE" || e.List != app.WantedListName || e.AddedBy != "1234" ||
				e.Priority != 2 || !e.Expires.Equal(t0.Add(100*24*time.Hour)) || e.Expires.Sub(t0) > app.MaxWantedTTL {
				t.Fatalf("entry = %+v (past hits %d)", e, past)
			}
		})
	}
}

func TestDrivingModeHysteresis(t *testing.T) {
	test.NewTempApp(t)
	vm := ui.NewViewModel(&mock.Backend{}, fixedNow)
	vm.DrivingSpeed = 5
	steps := []struct {
		mps  float64
		want bool
	}{{0, false}, {5, false}, {5.1, true}, {4.5, true}, {4.0, true}, {3.9, false}, {12, true}}
	for _, s := range steps {
		vm.SetSpeed(s.mps)
		if got, _ := vm.Driving.Get(); got != s.want {
			t.Fatalf("at %.1f m/s driving = %v, want %v", s.mps, got, s.want)
		}
	}
}

func TestThemeByTimeOfDay(t *testing.T) {
	tests := []struct {
		hour, min int
		night     bool
	}{{6, 59, true}, {7, 0, false}, {12, 0, false}, {18, 59, false}, {19, 0, true}, {23, 30, true}, {0, 0, true}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%02d:%02d", tt.hour, tt.min), func(t *testing.T) {
			test.NewTempApp(t)
			now := time.Date(2026, 11, 17, tt.hour, tt.min, 0, 0, time.UTC)
			vm := ui.NewViewModel(&mock.Backend{}, func() time.Time { return now })
			vm.Tick()
			if night, _ := vm.Night.Get(); night != tt.night {
				t.Fatalf("night = %v, want %v", night, tt.night)
			}
			vm.SetThemeMode(ui.ThemeDay) // by hand overrides the clock
			vm.Tick()
			if night, _ := vm.Night.Get(); night {
				t.Fatal("day by hand was overridden by the clock")
			}
		})
	}
}

func TestImportProgress(t *testing.T) {
	test.NewTempApp(t)
	b := &mock.Backend{ImportHotlistFn: func(_ context.Context, path, list string, progress func(int, int)) (int, error) {
		if path != "lists/stolen.csv" || list != "pnc-stolen" {
			return 0, fmt.Errorf("asked for %s as %s", path, list)
		}
		for i := 0; i <= 1000; i += 250 {
			progress(i, 1000)
		}
		return 1000, nil
	}}
	vm := ui.NewViewModel(b, fixedNow)
	var seen []float64
	vm.ImportProgress.AddListener(binding.NewDataListener(func() { v, _ := vm.ImportProgress.Get(); seen = append(seen, v) }))
	done := make(chan error, 1)
	vm.Import(context.Background(), "lists/stolen.csv", "pnc-stolen", func(_ int, err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := get(t, vm.ImportStatus); got != "Imported 1,000 entries into pnc-stolen." {
		t.Fatalf("status = %q", got)
	}
	if v, _ := vm.ImportProgress.Get(); v != 1 || len(seen) < 3 {
		t.Fatalf("progress = %v, seen %v", v, seen)
	}
}

func TestPartAlertsReachTheOfficer(t *testing.T) {
	test.NewTempApp(t)
	vm := ui.NewViewModel(&mock.Backend{}, fixedNow)
	vm.Apply(app.Event{Type: app.EventAlert, Alert: &app.Alert{Kind: app.AlertLost, Part: app.PartCamera, Text: "Camera front lost."}})
	if got := get(t, vm.Message); got != "Camera front lost." {
		t.Fatalf("message = %q", got)
	}
	// Hit alerts have their own screen: they do not overwrite the message.
	vm.Apply(app.Event{Type: app.EventAlert, Alert: &app.Alert{Kind: app.AlertHit, Text: "Hit. Stolen vehicle."}})
	if got := get(t, vm.Message); got != "Camera front lost." {
		t.Fatalf("message = %q after a hit alert", got)
	}
}

func TestResyncTakesTheEnginesQueue(t *testing.T) {
	test.NewTempApp(t)
	p4 := exactHit(t, "r-p4", "LO44WER", 4)
	look := lookalikeHit(t)
	covert := exactHit(t, "r-covert", "CV11ERT", 1)
	covert.Hit.Matches[0].Entry.Covert = true
	b := &mock.Backend{PendingFn: func() []app.PendingHit {
		return []app.PendingHit{
			{Read: *p4.Read, Hit: *p4.Hit, Raised: t0},
			{Read: *look.Read, Hit: *look.Hit, Raised: t0},
			{Read: *covert.Read, Hit: *covert.Hit, Raised: t0},
		}
	}}
	vm := ui.NewViewModel(b, fixedNow)
	vm.Apply(exactHit(t, "r-gone", "GO11NEE", 1)) // decided while the UI lagged
	vm.Resync()
	hs, _ := vm.Hits.Get()
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.Read.ID)
	}
	if fmt.Sprint(ids) != "[r-look r-p4]" {
		t.Fatalf("hits after resync = %v, want [r-look r-p4]", ids)
	}
}

func TestTickMovesTheClock(t *testing.T) {
	test.NewTempApp(t)
	now := t0
	vm := ui.NewViewModel(&mock.Backend{}, func() time.Time { return now })
	vm.Tick()
	if got := get(t, vm.TimeText); got != "14:02" {
		t.Fatalf("time = %q", got)
	}
	now = now.Add(3 * time.Minute)
	vm.Tick()
	if got := get(t, vm.TimeText); got != "14:05" {
		t.Fatalf("time = %q after three minutes", got)
	}
}
