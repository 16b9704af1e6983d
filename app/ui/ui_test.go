package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/ui"
	"github.com/ukanpr/anpr/app/ui/mock"
)

func TestTapDecisionButtons(t *testing.T) {
	tests := []struct {
		button  string
		outcome app.Outcome
	}{
		{"Confirmed", app.OutcomeConfirmed},
		{"Misread", app.OutcomeMisread},
		{"Not stopped", app.OutcomeNotStopped},
	}
	for _, tt := range tests {
		t.Run(tt.button, func(t *testing.T) {
			var c calls
			u, vm := newUI(t, newBackend(&c), true)
			vm.Apply(lookalikeHit(t))
			if !u.HitShown() {
				t.Fatal("hit screen not shown for a hit")
			}
			test.Tap(button(t, u.Object(ui.ScreenHit), tt.button))
			want := app.Decision{ReadID: "r-look", Outcome: tt.outcome, Officer: "1234", Time: t0}
			if len(c.decisions) != 1 || c.decisions[0] != want {
				t.Fatalf("Decide calls = %+v, want %+v", c.decisions, want)
			}
			if u.HitShown() {
				t.Fatal("hit screen still up after the decision")
			}
		})
	}
}

func TestOtherNeedsAReason(t *testing.T) {
	var c calls
	u, vm := newUI(t, newBackend(&c), true)
	vm.Apply(lookalikeHit(t))
	hit := u.Object(ui.ScreenHit)

	test.Tap(button(t, hit, "Other…"))
	test.Tap(button(t, hit, "Save reason"))
	if len(c.decisions) != 0 {
		t.Fatalf("'Other' with no reason was stored: %+v", c.decisions)
	}
	if !hasText(hit, "Not done: "+ui.ErrNeedReason.Error()) || !u.HitShown() {
		t.Fatal("no reason: the hit screen should stay, saying why")
	}
	typeOn(t, hit, "SENT TO RTC")
	test.Tap(button(t, hit, "Save reason"))
	want := app.Decision{ReadID: "r-look", Outcome: app.OutcomeOther, Reason: "SENT TO RTC", Officer: "1234", Time: t0}
	if len(c.decisions) != 1 || c.decisions[0] != want {
		t.Fatalf("Decide calls = %+v, want %+v", c.decisions, want)
	}
}

func TestOtherQuickReason(t *testing.T) {
	var c calls
	u, vm := newUI(t, newBackend(&c), true)
	vm.Apply(lookalikeHit(t))
	vm.Apply(exactHit(t, "r-p4", "LO44WER", 4))
	hit := u.Object(ui.ScreenHit)
	test.Tap(button(t, hit, "Other…"))
	test.Tap(button(t, hit, "Lost sight"))
	test.Tap(button(t, hit, "Save reason"))
	if len(c.decisions) != 1 || c.decisions[0].Reason != "Lost sight" || c.decisions[0].ReadID != "r-look" {
		t.Fatalf("Decide calls = %+v", c.decisions)
	}
	// The next hit follows, with the decision buttons back.
	if !u.HitShown() {
		t.Fatal("second hit not shown")
	}
	test.Tap(button(t, hit, "Confirmed"))
	if len(c.decisions) != 2 || c.decisions[1].ReadID != "r-p4" {
		t.Fatalf("Decide calls = %+v", c.decisions)
	}
}

func TestSilenceAcknowledges(t *testing.T) {
	var c calls
	u, vm := newUI(t, newBackend(&c), true)
	vm.Apply(lookalikeHit(t))
	test.Tap(button(t, u.Object(ui.ScreenHit), "Silence"))
	if len(c.acks) != 1 || c.acks[0] != "r-look" || !u.HitShown() {
		t.Fatalf("acks = %v, hit shown %v: want one ack and the hit still up", c.acks, u.HitShown())
	}
}

func TestKeyboardCheck(t *testing.T) {
	var c calls
	u, _ := newUI(t, newBackend(&c), true)
	u.Show(ui.ScreenCheck)
	screen := u.Object(ui.ScreenCheck)
	typeOn(t, screen, "AB12CDX")
	test.Tap(button(t, screen, "⌫"))
	typeOn(t, screen, "E")
	test.Tap(button(t, screen, "Check"))
	if len(c.checks) != 1 || c.checks[0] != "AB12CDE" {
		t.Fatalf("checks = %v, want [AB12CDE]", c.checks)
	}
	if !hasText(screen, "✓ P2 Stolen vehicle — Stop and arrest driver if safe (pnc AB12CDE)") {
		t.Fatal("check result not shown")
	}
	test.Tap(button(t, screen, "Clear"))
	typeOn(t, screen, "ZZ99ZZZ")
	test.Tap(button(t, screen, "Check"))
	if !hasText(screen, "No match: ZZ99ZZZ is on no hot list.") {
		t.Fatal("no-match result not shown")
	}
}

func TestKeyboardAddWanted(t *testing.T) {
	var c calls
	u, _ := newUI(t, newBackend(&c), true)
	u.Show(ui.ScreenCheck)
	screen := u.Object(ui.ScreenCheck)
	typeOn(t, screen, "AB12CDE")
	test.Tap(button(t, screen, "Stolen"))
	test.Tap(button(t, screen, "100 days"))
	test.Tap(button(t, screen, "Reason:  …"))
	typeOn(t, screen, "SEEN AT BURGLARY")
	test.Tap(button(t, screen, "Add wanted"))
	if len(c.wanted) != 1 {
		t.Fatalf("AddWanted calls = %d", len(c.wanted))
	}
	e := c.wanted[0]
	if e.VRM != "AB12CDE" || e.Category != "Stolen" || e.Information != "SEEN AT BURGLARY" || !e.Expires.Equal(t0.Add(100*24*time.Hour)) {
		t.Fatalf("entry = %+v", e)
	}
}

func TestLogOn(t *testing.T) {
	var c calls
	u, _ := newUI(t, newBackend(&c), false)
	if u.Shown() != ui.ScreenLogOn {
		t.Fatalf("shown %q before log-on, want the log-on screen", u.Shown())
	}
	screen := u.Object(ui.ScreenLogOn)
	typeOn(t, screen, "1234")
	test.Tap(button(t, screen, "PIN:  …"))
	typeOn(t, screen, "1111")
	test.Tap(button(t, screen, "Log on"))
	if u.Shown() != ui.ScreenLogOn || !hasText(screen, "wrong PIN") {
		t.Fatal("a wrong PIN let the officer in")
	}
	typeOn(t, screen, "4321")
	test.Tap(button(t, screen, "Log on"))
	if u.Shown() != ui.ScreenLive {
		t.Fatalf("shown %q after log-on, want live", u.Shown())
	}
	if len(c.logons) != 1 || c.logons[0].ID != "1234" {
		t.Fatalf("engine log-ons = %+v", c.logons)
	}
}

func TestAdminPINGate(t *testing.T) {
	var saved []ui.Settings
	var c calls
	b := newBackend(&c)
	b.SaveSettingsFn = func(_ context.Context, s ui.Settings) (string, error) {
		saved = append(saved, s)
		return "Saved to the test.", nil
	}
	u, vm := newUI(t, b, true)
	u.Show(ui.ScreenAdmin)
	screen := u.Object(ui.ScreenAdmin)
	typeOn(t, screen, "1234")
	test.Tap(button(t, screen, "Unlock"))
	if on, _ := vm.Admin.Get(); on || !hasText(screen, "Wrong admin PIN.") {
		t.Fatal("a wrong admin PIN unlocked the admin screen")
	}
	typeOn(t, screen, "9999")
	test.Tap(button(t, screen, "Unlock"))
	if on, _ := vm.Admin.Get(); !on {
		t.Fatal("the admin PIN did not unlock")
	}
	test.Tap(button(t, screen, "Save settings"))
	if len(saved) != 1 || saved[0].RetentionDays != 365 || saved[0].BackOffice != "https://anpr.example.police.uk" {
		t.Fatalf("saved = %+v", saved)
	}
	if !hasText(screen, "Saved to the test.") {
		t.Fatal("the admin was not told what the save did")
	}
	test.Tap(button(t, screen, "Lock"))
	if on, _ := vm.Admin.Get(); on {
		t.Fatal("Lock left the admin screen open")
	}
}

func TestDrivingShowsOnlyHits(t *testing.T) {
	u, vm := newUI(t, newBackend(&calls{}), true)
	vm.DrivingSpeed = 5
	u.Show(ui.ScreenCheck)
	offered := func(name string) bool {
		found := false
		visible(u.Window.Content(), func(o fyne.CanvasObject) {
			if b, ok := o.(*widget.Button); ok && b.Text == name {
				found = true
			}
		})
		return found
	}
	if !offered("Check") || !offered("History") || !offered("Admin") {
		t.Fatal("Check, History and Admin should be offered when stopped")
	}
	vm.SetSpeed(13.4) // 30 mph
	if u.Shown() != ui.ScreenDriving {
		t.Fatalf("shown %q at 30 mph, want the driving screen", u.Shown())
	}
	for _, name := range []string{"Check", "History", "Admin"} {
		if offered(name) {
			t.Errorf("%s is offered while driving", name)
		}
	}
	vm.Apply(exactHit(t, "r-p2", "HI22GHR", 2))
	if !u.HitShown() {
		t.Fatal("a hit must still show while driving")
	}
	vm.SetSpeed(0)
	if u.Shown() != ui.ScreenCheck {
		t.Fatalf("shown %q when stopped, want the check screen back", u.Shown())
	}
}

func TestThemeSwitching(t *testing.T) {
	u, vm := newUI(t, &mock.Backend{}, true)
	if u.App.Settings().Theme() != ui.DayTheme {
		t.Fatal("day theme not applied")
	}
	test.Tap(button(t, u.Window.Content(), "Day")) // day → night by hand
	if m, _ := vm.ThemeMode.Get(); m != ui.ThemeNight || u.App.Settings().Theme() != ui.NightTheme {
		t.Fatalf("mode %q, theme %v: want night", m, u.App.Settings().Theme())
	}
	test.Tap(button(t, u.Window.Content(), "Night")) // night → auto: 14:02 is day
	if u.App.Settings().Theme() != ui.DayTheme {
		t.Fatal("auto at 14:02 should be day")
	}
}

func TestHitBeforeLogOn(t *testing.T) {
	var c calls
	u, vm := newUI(t, newBackend(&c), false)
	vm.Apply(lookalikeHit(t))
	if !u.HitShown() {
		t.Fatal("a hit must show even before log-on")
	}
	test.Tap(button(t, u.Object(ui.ScreenHit), "Confirmed"))
	if len(c.decisions) != 0 {
		t.Fatalf("decision stored with nobody logged on: %+v", c.decisions)
	}
	if u.HitShown() || u.Shown() != ui.ScreenLogOn {
		t.Fatalf("hit shown %v, screen %q: want the log-on screen", u.HitShown(), u.Shown())
	}
	screen := u.Object(ui.ScreenLogOn)
	typeOn(t, screen, "1234")
	test.Tap(button(t, screen, "PIN:  …"))
	typeOn(t, screen, "4321")
	test.Tap(button(t, screen, "Log on"))
	if !u.HitShown() {
		t.Fatal("the hit did not come back after log-on")
	}
	test.Tap(button(t, u.Object(ui.ScreenHit), "Confirmed"))
	if len(c.decisions) != 1 || c.decisions[0].Officer != "1234" {
		t.Fatalf("decisions = %+v", c.decisions)
	}
}

// TestOnHitShown: the hook fires once for each hit that comes to the head
// of the hit screen, saying whether another hit was up just before.
func TestOnHitShown(t *testing.T) {
	var c calls
	u, vm := newUI(t, newBackend(&c), true)
	type call struct {
		id    string
		fresh bool
	}
	var got []call
	u.OnHitShown = func(h ui.HitItem, fresh bool) { got = append(got, call{h.Read.ID, fresh}) }
	vm.Apply(exactHit(t, "r2", "AB12CDE", 2))
	vm.Apply(exactHit(t, "r1", "BC12DEF", 1)) // more urgent: to the head
	vm.Apply(exactHit(t, "r3", "CD12EFG", 3)) // less urgent: waits
	test.Tap(button(t, u.Object(ui.ScreenHit), "Not stopped"))
	test.Tap(button(t, u.Object(ui.ScreenHit), "Not stopped"))
	test.Tap(button(t, u.Object(ui.ScreenHit), "Not stopped"))
	vm.Apply(exactHit(t, "r4", "DE12FGH", 2))
	want := []call{{"r2", true}, {"r1", false}, {"r2", false}, {"r3", false}, {"r4", true}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("OnHitShown calls %v, want %v", got, want)
	}
}

// The hit screen says how sure the reader was, and warns when it was
// unsure: a misread stops an innocent driver.
func TestHitShowsUnsureRead(t *testing.T) {
	u, vm := newUI(t, newBackend(&calls{}), true)
	sure := exactHit(t, "r-sure", "AB12CDE", 2)
	vm.Apply(sure)
	hit := u.Object(ui.ScreenHit)
	if !anyTextHas(hit, "reader 93 % sure") {
		t.Error("sure read: no 'reader 93 % sure' on the hit screen")
	}
	if anyTextHas(hit, "UNSURE READ") {
		t.Error("a read 93 % sure is flagged unsure")
	}
	test.Tap(button(t, hit, "Not stopped"))

	unsure := exactHit(t, "r-unsure", "BC12DEF", 2)
	unsure.Read.Confidence = 0.38
	vm.Apply(unsure)
	if !anyTextHas(hit, "UNSURE READ (38 %)") {
		t.Error("a read 38 % sure is not flagged unsure on the hit screen")
	}
}

// anyTextHas reports whether a visible text under o contains s.
func anyTextHas(o fyne.CanvasObject, s string) bool {
	ok := false
	visible(o, func(c fyne.CanvasObject) {
		if x, is := c.(*canvas.Text); is && strings.Contains(x.Text, s) {
			ok = true
		}
	})
	return ok
}
