package main

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app/ui"
	"github.com/ukanpr/anpr/vision"
)

// commentLines are the comment lines of a TOML text, trimmed.
func commentLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func openConfigFile(t *testing.T, path string) *configFile {
	t.Helper()
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return &configFile{path: path, cfg: cfg}
}

// TestSaveSettingsInPlace writes the admin screen's settings into the
// example configuration: the file then loads with exactly those settings,
// every other field as it was, and every comment kept.
func TestSaveSettingsInPlace(t *testing.T) {
	dir := t.TempDir()
	orig := exampleConfig(t, dir)
	path := writeConfig(t, dir, orig)
	f := openConfigFile(t, path)
	before := *f.cfg

	steps := []ui.Settings{
		// a third camera, gpsd instead of serial, shorter retention
		{Cameras: "/dev/video2\nrtsp://192.168.10.20:554/stream1\n  file:/var/lib/anpr/test.mp4  \n", GPS: "gpsd:localhost:2947",
			BackOffice: "https://backoffice.force.example:8443", RetentionDays: 90},
		// down to one camera; a URL with a quote and a backslash in it
		{Cameras: "/dev/video0", GPS: "serial:/dev/ttyACM0", BackOffice: `https://bo.example/a"b\c`, RetentionDays: 365},
		// and back up to two: the new one takes a free id
		{Cameras: "/dev/video0\n/dev/video1", GPS: "udp::10110", BackOffice: "", RetentionDays: 730},
	}
	for i, s := range steps {
		if err := f.save(s); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := loadConfig(path)
		if err != nil {
			t.Fatalf("step %d: the saved file does not load: %v\n%s", i, err, text)
		}
		want := s
		want.Cameras = strings.Join(strings.Fields(s.Cameras), "\n")
		if gs := settingsOf(got); gs != want {
			t.Errorf("step %d: saved %+v, reads back %+v", i, want, gs)
		}
		if got.Alerts != before.Alerts || got.Store != before.Store || got.Car != before.Car ||
			got.BackOffice.CA != before.BackOffice.CA || got.BackOffice.Interval != before.BackOffice.Interval ||
			got.Matching != before.Matching || got.GPS.ClockBound != before.GPS.ClockBound {
			t.Errorf("step %d: fields the admin did not touch changed:\n%+v\nwas\n%+v", i, got, before)
		}
		if rear := (vision.Zoom{X0: 0.15, Y0: 0.3, X1: 0.85, Y1: 0.9}); i == 0 && got.Cameras[1].zoom != rear {
			t.Errorf("step %d: the rear camera's zoom window %v was not kept (want %v)", i, got.Cameras[1].zoom, rear)
		}
		if got.GPS.Source != "serial:/dev/ttyACM0" && got.GPS.Baud != 0 {
			t.Errorf("step %d: baud %d kept for %s", i, got.GPS.Baud, got.GPS.Source)
		}
		if cl, ol := commentLines(string(text)), commentLines(orig); strings.Join(cl, "\n") != strings.Join(ol, "\n") {
			t.Errorf("step %d: comments changed:\n%s", i, strings.Join(cl, "\n"))
		}
	}
	got, _ := loadConfig(path)
	if ids := []string{got.Cameras[0].ID, got.Cameras[1].ID}; ids[0] != "front" || ids[1] != "cam2" {
		t.Errorf("camera ids %v, want [front cam2]", ids)
	}
}

// TestSaveSettingsRefused: a wrong setting names the field and leaves the
// file exactly as it was.
func TestSaveSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, exampleConfig(t, dir))
	orig, _ := os.ReadFile(path)
	f := openConfigFile(t, path)
	good := settingsOf(f.cfg)
	for _, c := range []struct {
		name string
		edit func(*ui.Settings)
		want string
	}{
		{"gps", func(s *ui.Settings) { s.GPS = "/dev/ttyUSB0" }, "gps.source"},
		{"no camera", func(s *ui.Settings) { s.Cameras = " \n " }, "cameras"},
		{"http", func(s *ui.Settings) { s.BackOffice = "http://bo.example" }, "backoffice.url"},
		{"retention", func(s *ui.Settings) { s.RetentionDays = 0 }, "retention"},
	} {
		s := good
		c.edit(&s)
		err := f.save(s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.want)
		}
		if now, _ := os.ReadFile(path); string(now) != string(orig) {
			t.Fatalf("%s: a refused save changed the file", c.name)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 5 { // the config, ca, cert, key, hot-list key: no temporary left
		t.Errorf("files left in the config's folder: %d", len(ents))
	}
}

// TestSaveSettingsRewrites: a layout the line editor cannot edit (an
// inline table) is written afresh, and still loads with the settings.
func TestSaveSettingsRewrites(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, "gps = { source = \"gpsd:\" }\n\n[[cameras]]\nid = \"front\"\nsource = \"/dev/video0\"\n\n[store]\ndb = \"car.db\"\n")
	f := openConfigFile(t, path)
	s := settingsOf(f.cfg)
	s.GPS, s.RetentionDays = "tcp:router:10110", 30
	if err := f.save(s); err != nil {
		t.Fatal(err)
	}
	got, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if settingsOf(got) != s || got.Store.DB != "car.db" {
		t.Fatalf("reads back %+v", got)
	}
	if text, _ := os.ReadFile(path); !strings.Contains(string(text), "written by its admin screen") {
		t.Errorf("a rewritten file does not say so:\n%s", text)
	}
}

// TestAdminSaveOnCar saves through the UI's backend of a car started from
// a file: the file changes, retention applies at once, the change is
// audited, and the admin is told where it went.
func TestAdminSaveOnCar(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := writeConfig(t, dir, exampleConfig(t, dir))
	c := openTestCar(t, dir, time.Now)
	c.conf = openConfigFile(t, path)
	b, err := newUIBackend(c, uiOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.Settings(ctx)
	if err != nil || s.GPS != "serial:/dev/ttyUSB0" || s.Cameras != "/dev/video0\nrtsp://192.168.10.20:554/stream1" {
		t.Fatalf("settings %+v, %v", s, err)
	}
	s.RetentionDays = 31
	msg, err := b.SaveSettings(ctx, s)
	if err != nil || !strings.Contains(msg, path) {
		t.Fatalf("save: %q, %v", msg, err)
	}
	if got := time.Duration(c.retention.Load()); got != 31*24*time.Hour {
		t.Errorf("retention now %v", got)
	}
	if cfg, err := loadConfig(path); err != nil || cfg.Retention.ReadsDays != 31 {
		t.Errorf("file: %+v, %v", cfg, err)
	}
	evs, err := c.DB.AuditEvents(ctx, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(evs); n == 0 || evs[n-1].Action != "settings" || !strings.Contains(evs[n-1].Detail, "retention 31 days") {
		t.Errorf("audit %+v", evs)
	}
}

// FuzzSaveSettings: whatever an admin types, a save either refuses and
// leaves the file as it was, or the file then loads with exactly what was
// saved.
func FuzzSaveSettings(f *testing.F) {
	f.Add("/dev/video0\nrtsp://cam/1", "gpsd:", "", 30)
	f.Add("a\"b\\c", "file:/x # y", "https://bo.example/#frag", 1)
	f.Add("\u00e9\t'x'", "udp::10110", "https://h", 3650)
	f.Fuzz(func(t *testing.T, cams, gps, bo string, days int) {
		dir := t.TempDir()
		path := writeConfig(t, dir, exampleConfig(t, dir))
		cf := openConfigFile(t, path)
		before, _ := os.ReadFile(path)
		s := ui.Settings{Cameras: cams, GPS: gps, BackOffice: bo, RetentionDays: days}
		if err := cf.save(s); err != nil {
			if now, _ := os.ReadFile(path); string(now) != string(before) {
				t.Fatalf("a refused save (%v) changed the file", err)
			}
			return
		}
		got, err := loadConfig(path)
		if err != nil {
			t.Fatalf("saved %+v; the file does not load: %v", s, err)
		}
		if !reflect.DeepEqual(got, cf.cfg) {
			t.Fatalf("saved %+v; reads back %+v", cf.cfg, got)
		}
	})
}
