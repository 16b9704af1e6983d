package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
)

func hitOn(id, vrm string, entries ...app.HotlistEntry) (app.Read, app.Hit) {
	r := app.Read{ID: id, VRM: vrm}
	h := app.Hit{ReadID: id}
	for _, e := range entries {
		h.Matches = append(h.Matches, app.Match{Entry: e, Kind: app.MatchExact, Candidate: vrm})
	}
	return r, h
}

func entry(prio int, category string) app.HotlistEntry {
	return app.HotlistEntry{List: "pnc", Category: category, Priority: prio}
}

func TestPhoneticClips(t *testing.T) {
	tests := []struct{ vrm, want string }{
		{"AB12CDE", "alpha bravo one two charlie delta echo"},
		{"x9-z0", "x-ray nine zulu zero"},
		{"", ""},
	}
	for _, tc := range tests {
		clips, _ := app.PhoneticClips(tc.vrm)
		if got := strings.Join(clips, " "); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.vrm, got, tc.want)
		}
	}
}

func TestCategoryClip(t *testing.T) {
	tests := []struct{ category, clip, text string }{
		{"STOLEN", "stolen-vehicle", "Stolen vehicle"},
		{"Stolen vehicle", "stolen-vehicle", "Stolen vehicle"},
		{"no-insurance", "no-insurance", "No insurance"},
		{"Firearms marker", "firearms-marker", "Firearms marker"},
		{"wanted", "wanted", "Wanted"},
		{"", "vehicle-of-interest", "Vehicle of interest"},
		{"cloned plates", "vehicle-of-interest", "Vehicle of interest"},
	}
	for _, tc := range tests {
		clip, text := app.CategoryClip(tc.category)
		if clip != tc.clip || text != tc.text {
			t.Errorf("%q: %s %q, want %s %q", tc.category, clip, text, tc.clip, tc.text)
		}
	}
}

func TestAlertPolicyHit(t *testing.T) {
	tests := []struct {
		name    string
		entries []app.HotlistEntry
		past    bool
		kind    app.AlertKind // "" for no alert
		speech  string
		text    string
		prio    int
		repeats bool
	}{
		{"priority 1 spoken, repeats", []app.HotlistEntry{entry(1, "stolen")}, false, app.AlertHit,
			"hit stolen-vehicle alpha bravo one two charlie delta echo",
			"Hit. Stolen vehicle. Alpha Bravo One Two Charlie Delta Echo.", 1, true},
		{"priority 2 repeats", []app.HotlistEntry{entry(2, "wanted")}, false, app.AlertHit,
			"hit wanted alpha bravo one two charlie delta echo", "", 2, true},
		{"priority 3 spoken once", []app.HotlistEntry{entry(3, "no insurance")}, false, app.AlertHit,
			"hit no-insurance alpha bravo one two charlie delta echo", "", 3, false},
		{"priority 4 tone only", []app.HotlistEntry{entry(4, "no tax")}, false, app.AlertHit, "",
			"Hit. No tax. Alpha Bravo One Two Charlie Delta Echo.", 4, false},
		{"best visible entry speaks", []app.HotlistEntry{entry(5, "no tax"), entry(2, "firearms")}, false,
			app.AlertHit, "hit firearms-marker alpha bravo one two charlie delta echo", "", 2, true},
		{"covert silent", []app.HotlistEntry{{List: "x", Category: "stolen", Priority: 1, Covert: true}}, false, "", "", "", 0, false},
		{"covert left out", []app.HotlistEntry{{List: "x", Category: "stolen", Priority: 1, Covert: true}, entry(6, "no mot")},
			false, app.AlertHit, "", "Hit. No MOT. Alpha Bravo One Two Charlie Delta Echo.", 6, false},
		{"past hit never repeats", []app.HotlistEntry{entry(1, "stolen")}, true, app.AlertPastHit,
			"past-hit stolen-vehicle alpha bravo one two charlie delta echo",
			"Past hit. Stolen vehicle. Alpha Bravo One Two Charlie Delta Echo.", 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			p := &app.AlertPolicy{Now: clk.Now}
			r, h := hitOn("r1", "AB12CDE", tc.entries...)
			h.Past = tc.past
			a := p.Hit(r, h)
			if tc.kind == "" {
				if a != nil {
					t.Fatalf("alert %+v, want none", a)
				}
				if p.Unacked() != 0 {
					t.Error("silent hit counted as unacknowledged")
				}
				return
			}
			if a == nil {
				t.Fatal("no alert")
			}
			if a.Kind != tc.kind || a.Priority != tc.prio || strings.Join(a.Speech, " ") != tc.speech {
				t.Errorf("alert %s p%d %q", a.Kind, a.Priority, strings.Join(a.Speech, " "))
			}
			if tc.text != "" && a.Text != tc.text {
				t.Errorf("text %q, want %q", a.Text, tc.text)
			}
			clk.Add(app.DefaultRepeatEvery)
			if got := len(p.Due()) == 1; got != tc.repeats {
				t.Errorf("repeats %v, want %v", got, tc.repeats)
			}
		})
	}
}

func TestAlertPolicySameVRMWindow(t *testing.T) {
	clk := newClock()
	p := &app.AlertPolicy{Now: clk.Now, SameVRM: 5 * time.Minute}
	steps := []struct {
		after time.Duration
		id    string
		alert bool
	}{
		{0, "r1", true},
		{time.Minute, "r2", false}, // same VRM a minute later
		{3*time.Minute + 59*time.Second, "r3", false},
		{time.Minute, "r4", true}, // 5 min after the last alert
	}
	for _, s := range steps {
		clk.Add(s.after)
		r, h := hitOn(s.id, "AB12CDE", entry(3, "stolen"))
		if got := p.Hit(r, h) != nil; got != s.alert {
			t.Errorf("%s at +%v: alert %v, want %v", s.id, s.after, got, s.alert)
		}
		p.Ack(s.id)
	}
	r, h := hitOn("r5", "XY51ABC", entry(3, "stolen"))
	if p.Hit(r, h) == nil {
		t.Error("another VRM kept silent")
	}
}

func TestAlertPolicyRepeats(t *testing.T) {
	clk := newClock()
	p := &app.AlertPolicy{Now: clk.Now, RepeatEvery: 15 * time.Second}
	r, h := hitOn("r1", "AB12CDE", entry(1, "stolen"))
	p.Hit(r, h)
	if next, ok := p.NextDue(); !ok || !next.Equal(clk.Now().Add(15*time.Second)) {
		t.Fatalf("next due %v %v", next, ok)
	}
	for i := 1; i <= 3; i++ {
		clk.Add(14 * time.Second)
		if d := p.Due(); len(d) != 0 {
			t.Fatalf("repeat %d early", i)
		}
		clk.Add(time.Second)
		d := p.Due()
		if len(d) != 1 || d[0].Repeat != i || d[0].Kind != app.AlertRepeat || len(d[0].Speech) == 0 {
			t.Fatalf("repeat %d: %+v", i, d)
		}
	}
	if !p.Ack("r1") || p.Ack("r1") {
		t.Error("ack reports")
	}
	clk.Add(time.Hour)
	if d := p.Due(); len(d) != 0 {
		t.Errorf("repeats after ack: %+v", d)
	}
	if _, ok := p.NextDue(); ok {
		t.Error("next due after ack")
	}
}

func TestAlertPolicyOverload(t *testing.T) {
	clk := newClock()
	p := &app.AlertPolicy{Now: clk.Now, MaxUnacked: 3, RepeatEvery: 10 * time.Second}
	steps := []struct {
		id, vrm string
		prio    int
		kind    app.AlertKind
		text    string
	}{
		{"r1", "AA11AAA", 2, app.AlertHit, ""},
		{"r2", "BB11BBB", 2, app.AlertHit, ""},
		{"r3", "CC11CCC", 3, app.AlertHit, ""},
		{"r4", "DD11DDD", 3, app.AlertOverload, "Four hits waiting."}, // 4th, not more urgent: a count
		{"r5", "EE11EEE", 2, app.AlertOverload, "Five hits waiting."},
		{"r6", "FF11FFF", 1, app.AlertHit, ""}, // more urgent than all: full alert
	}
	for _, s := range steps {
		clk.Add(time.Second)
		r, h := hitOn(s.id, s.vrm, entry(s.prio, "stolen"))
		a := p.Hit(r, h)
		if a == nil || a.Kind != s.kind {
			t.Fatalf("%s: %+v, want %s", s.id, a, s.kind)
		}
		if s.text != "" && a.Text != s.text {
			t.Errorf("%s: %q, want %q", s.id, a.Text, s.text)
		}
		if a.Kind == app.AlertOverload && strings.Join(a.Speech, " ") != strings.ToLower(strings.Fields(s.text)[0])+" hits waiting" {
			t.Errorf("%s speech %v", s.id, a.Speech)
		}
	}
	// r1, r2, r5? No: r5 was a count and never repeats. r1, r2, r6 repeat,
	// but while overloaded only the most urgent one at a time.
	clk.Add(time.Minute)
	d := p.Due()
	if len(d) != 1 || d[0].ReadID != "r6" {
		t.Fatalf("due while overloaded %+v, want r6 only", d)
	}
	for _, id := range []string{"r6", "r3", "r4", "r5"} {
		p.Ack(id)
	}
	clk.Add(time.Minute)
	d = p.Due()
	if len(d) != 2 || d[0].ReadID != "r1" || d[1].ReadID != "r2" {
		t.Fatalf("due after the pile cleared %+v, want r1 then r2", d)
	}
}

func TestAlertPolicyParts(t *testing.T) {
	p := &app.AlertPolicy{Now: newClock().Now}
	steps := []struct {
		part  app.Part
		id    string
		state app.PartState
		want  string // alert text; "" none
	}{
		{app.PartGPS, "", app.StateOK, ""}, // first report, working: silent
		{app.PartGPS, "", app.StateDegraded, ""},
		{app.PartGPS, "", app.StateLost, "GPS lost."},
		{app.PartGPS, "", app.StateLost, ""}, // once
		{app.PartGPS, "", app.StateDegraded, "GPS restored."},
		{app.PartCamera, "front", app.StateLost, "Camera front lost."}, // first report, lost: said
		{app.PartCamera, "rear", app.StateOK, ""},
		{app.PartCamera, "front", app.StateOK, "Camera front restored."},
		{app.PartSync, "", app.StateOK, ""},
		{app.PartSync, "", app.StateLost, "Link lost."},
		{app.PartSync, "", app.StateUnknown, ""}, // says nothing: still lost
		{app.PartSync, "", app.StateOK, "Link restored."},
		{app.PartHotlist, "", app.StateLost, ""},
		{app.PartClock, "", app.StateLost, ""},
	}
	for i, s := range steps {
		a := p.PartChanged(app.PartStatus{Part: s.part, ID: s.id, State: s.state})
		got := ""
		if a != nil {
			got = a.Text
			wantSpeech := map[app.AlertKind]string{app.AlertLost: "lost", app.AlertRestored: "restored"}[a.Kind]
			if a.Speech[len(a.Speech)-1] != wantSpeech {
				t.Errorf("step %d speech %v", i, a.Speech)
			}
		}
		if got != s.want {
			t.Errorf("step %d %s/%s %s: %q, want %q", i, s.part, s.id, s.state, got, s.want)
		}
	}
}
