package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/vision"
)

// runMain runs `anpr args…` and returns stdout, stderr and the exit status.
func runMain(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := m.Run(context.Background(), args)
	return out.String(), errb.String(), code
}

// openTestCar opens a car on a new store in dir with the clock now and no
// log output; it is closed when the test ends.
func openTestCar(t *testing.T, dir string, now func() time.Time) *car {
	t.Helper()
	c, err := openCar(context.Background(), filepath.Join(dir, "car.db"), "", now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// repoFile returns the path of a file in the repository.
func repoFile(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, rel)
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("go.mod not found")
		}
		dir = filepath.Dir(dir)
	}
}

// exampleConfig returns docs/anpr.example.toml with its certificate and key
// paths pointing at real files in dir.
func exampleConfig(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(repoFile(t, "docs/anpr.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	s := string(b)
	for _, f := range []struct{ old, name, body string }{
		{"/etc/anpr/ca.pem", "ca.pem", "x"},
		{"/etc/anpr/car.pem", "car.pem", "x"},
		{"/etc/anpr/car-key.pem", "car-key.pem", "x"},
		{"/etc/anpr/hotlist-signing.pub", "hotlist.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))},
	} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(f.body), 0o600); err != nil {
			t.Fatal(err)
		}
		s = strings.ReplaceAll(s, f.old, p)
	}
	return s
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "anpr.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigExample(t *testing.T) {
	dir := t.TempDir()
	cfg, err := loadConfig(writeConfig(t, dir, exampleConfig(t, dir)))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Cameras) != 2 || cfg.Cameras[1].ID != "rear" || cfg.GPS.Source != "serial:/dev/ttyUSB0" ||
		cfg.Alerts.RepeatEvery.Duration != 30*time.Second || cfg.Alerts.SameVRM.Duration != 5*time.Minute ||
		cfg.Retention.ReadsDays != 730 || cfg.BackOffice.Interval.Duration != 30*time.Second {
		t.Errorf("config %+v", cfg)
	}
	p := cfg.Alerts.policy(time.Now)
	if p.SpeakUpTo != 3 || p.RepeatUpTo != 2 || p.MaxUnacked != 3 {
		t.Errorf("policy %+v", p)
	}
	// the front camera leaves zoom out (the default window), the rear sets its own
	if z := cfg.Cameras[0].zoom; z != vision.DefaultZoom {
		t.Errorf("front camera zoom %v, want the default %v", z, vision.DefaultZoom)
	}
	if z := cfg.Cameras[1].zoom; z != (vision.Zoom{X0: 0.15, Y0: 0.3, X1: 0.85, Y1: 0.9}) {
		t.Errorf("rear camera zoom %v", z)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	const base = `
[[cameras]]
id = "front"
source = "0"
[gps]
source = "gpsd:"
[store]
db = "car.db"
`
	tests := []struct {
		name string
		body string
		want string // in the error, after the file name
	}{
		{"syntax", base + "[alerts\nsound = \"auto\"\n", "line 10"},
		{"unknown field", base + "[alerts]\nsond = \"off\"\n", "unknown field alerts.sond"},
		{"unknown table", base + "[gsp]\nsource = \"x\"\n", "unknown field gsp"},
		{"wrong type", base + "[alerts]\nspeak_up_to = \"three\"\n", "line 10: alerts.speak_up_to: incompatible types"},
		{"bad duration", base + "[alerts]\nrepeat_every = \"often\"\n", "line 10: alerts.repeat_every"},
		{"negative duration", base + "[matching]\npast_window = \"-1h\"\n", "negative"},
		{"priority range", base + "[alerts]\nspeak_up_to = 12\n", "alerts.speak_up_to: 12"},
		{"sound", base + "[alerts]\nsound = \"loud\"\n", "alerts.sound"},
		{"no cameras", "[gps]\nsource = \"gpsd:\"\n[store]\ndb = \"x\"\n", "cameras: at least one"},
		{"camera without source", strings.Replace(base, `source = "0"`, `source = ""`, 1), "cameras[0].source: missing"},
		{"camera zoom", strings.Replace(base, `source = "0"`, "source = \"0\"\nzoom = \"0.5,0.2,0.4,0.9\"", 1), `cameras[0].zoom: zoom "0.5,0.2,0.4,0.9": want 0 ≤ X0 < X1 ≤ 1`},
		{"camera zoom word", strings.Replace(base, `source = "0"`, "source = \"0\"\nzoom = \"wide\"", 1), `cameras[0].zoom: zoom "wide": want off, on or X0,Y0,X1,Y1`},
		{"camera twice", base + "[[cameras]]\nid = \"front\"\nsource = \"1\"\n", `cameras[1].id: "front" is used twice`},
		{"gps kind", strings.Replace(base, `"gpsd:"`, `"bluetooth:x"`, 1), `gps.source: "bluetooth:x": unknown kind`},
		{"gps baud on tcp", strings.Replace(base, `"gpsd:"`, "\"tcp:router:10110\"\nbaud = 4800", 1), "gps.source: baud is for serial sources only"},
		{"no db", strings.Replace(base, `db = "car.db"`, ``, 1), "store.db: missing"},
		{"back office http", base + "[backoffice]\nurl = \"http://bo:80\"\n", "backoffice.url"},
		{"back office cert missing", base + "[backoffice]\nurl = \"https://bo:8443\"\nca = \"nope.pem\"\ncert = \"c\"\nkey = \"k\"\n", "backoffice.ca"},
		{"retention", base + "[retention]\nreads_days = -3\n", "retention.reads_days"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeConfig(t, t.TempDir(), tc.body)
			_, err := loadConfig(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "config "+p) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want the file then %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	bad := writeConfig(t, dir, "[[cameras]]\nid = 3\n")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run"}, 2, "--config FILE is required"},
		{[]string{"run", "--config", filepath.Join(dir, "missing.toml")}, 2, "missing.toml: no such file"},
		{[]string{"run", "--config", bad}, 2, bad + " line 2"},
		{[]string{"run", "--bogus"}, 2, "bogus"},
	}
	for _, tc := range tests {
		_, stderr, code := runMain(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
			t.Errorf("%v: %d lines on stderr", tc.args, n+1)
		}
	}
}

// TestHeadlessLines runs a car with the real store and matcher but no
// camera: a pacing stage feeds it sightings, and runHeadless prints them.
func TestHeadlessLines(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	c := openTestCar(t, dir, func() time.Time { return now })
	csv := filepath.Join(dir, "pnc.csv")
	if err := os.WriteFile(csv, []byte("vrm,category,priority,action,covert\n"+
		"AB12CDE,stolen,1,Stop and detain,false\nGX07XYZ,no insurance,4,Seize,false\nCV05ERT,intelligence,2,,true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := importDemoList(ctx, c, csv); err != nil || n != 3 {
		t.Fatalf("import: %d %v", n, err)
	}
	c.link = "test: no back office"
	var sent []string
	c.pace = func(ctx context.Context, in <-chan app.Sighting, out chan<- app.Sighting) {
		defer close(out)
		for i, v := range []string{"AB12CDE", "6X07XYZ", "CV05ERT", "NE11WAN"} {
			sent = append(sent, v)
			out <- app.Sighting{Camera: "front", Time: now.Add(time.Duration(i) * time.Second), Raw: v, Text: v,
				Confidence: 0.9, Candidates: []app.Candidate{{Text: v, Confidence: 0.9}}}
		}
		for range in { // no cameras: closes at once
		}
	}
	var out, errb bytes.Buffer
	if err := runHeadless(ctx, &Main{Stdout: &out, Stderr: &errb}, c); err != nil {
		t.Fatal(err)
	}
	readKeys := strings.Fields("type id vrm raw confidence time camera lat lon fix fix_age_ms speed_mps heading_deg match")
	var reads []string
	parts := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		switch m["type"] {
		case "read":
			if len(m) != len(readKeys) {
				t.Errorf("read line keys: %s", line)
			}
			for _, k := range readKeys {
				if _, ok := m[k]; !ok {
					t.Errorf("no %s: %s", k, line)
				}
			}
			s := m["vrm"].(string)
			if mm, ok := m["match"].(map[string]any); ok {
				s += ":" + mm["kind"].(string)
			}
			reads = append(reads, s)
		case "status":
			parts[m["part"].(string)] = m["state"].(string)
		default:
			t.Errorf("unexpected line %s", line)
		}
	}
	if got, want := strings.Join(reads, " "), "AB12CDE:exact 6X07XYZ:lookalike CV05ERT:exact NE11WAN"; got != want {
		t.Errorf("reads %s, want %s", got, want)
	}
	for _, p := range []string{"gps", "clock", "hotlist", "sync"} {
		if _, ok := parts[p]; !ok {
			t.Errorf("no %s status line in\n%s", p, out.String())
		}
	}
	if parts["gps"] != "unknown" || parts["hotlist"] != "ok" {
		t.Errorf("states %v", parts)
	}
}

func TestDriveClock(t *testing.T) {
	t0 := time.Date(2015, 10, 10, 9, 12, 0, 0, time.UTC)
	wall := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var waits []time.Duration
	d := &driveClock{speed: 4, wall: func() time.Time { return wall },
		after: func(w time.Duration) <-chan time.Time {
			waits = append(waits, w)
			wall = wall.Add(w) // the wait passes
			c := make(chan time.Time, 1)
			c <- wall
			return c
		}}
	d.set(t0)
	if !d.Now().Equal(t0) {
		t.Fatalf("before the drive: %v", d.Now())
	}
	in, out := make(chan app.Sighting, 3), make(chan app.Sighting, 3)
	for _, s := range []time.Duration{8 * time.Second, 4 * time.Second, 20 * time.Second} {
		in <- app.Sighting{Time: t0.Add(s)}
	}
	close(in)
	d.pace(context.Background(), in, out)
	var got []time.Duration
	for s := range out {
		got = append(got, s.Time.Sub(t0))
	}
	if len(got) != 3 {
		t.Fatalf("forwarded %v", got)
	}
	// At speed 4: 8 s of drive is 2 s of wall; the 4 s sighting is already
	// due; 20 s is 3 s of wall after the first.
	if len(waits) != 2 || waits[0] != 2*time.Second || waits[1] != 3*time.Second {
		t.Errorf("waits %v", waits)
	}
	if want := t0.Add(20 * time.Second); !d.Now().Equal(want) {
		t.Errorf("now %v, want %v", d.Now(), want)
	}

	fast := &driveClock{}
	fast.set(t0)
	in, out = make(chan app.Sighting, 2), make(chan app.Sighting, 2)
	in <- app.Sighting{Time: t0.Add(time.Minute)}
	in <- app.Sighting{Time: t0.Add(30 * time.Second)} // a rear camera's, a little late
	close(in)
	fast.pace(context.Background(), in, out)
	if want := t0.Add(time.Minute); !fast.Now().Equal(want) {
		t.Errorf("speed 0 now %v, want the newest sighting %v", fast.Now(), want)
	}
}

// FuzzLoadConfig: whatever the file holds, loading it ends in a config or
// one clear error naming the file, never a panic.
func FuzzLoadConfig(f *testing.F) {
	if b, err := os.ReadFile(repoFile(f, "docs/anpr.example.toml")); err == nil {
		f.Add(string(b))
	}
	f.Add("[[cameras]]\nid = \"front\"\nsource = \"0\"\n[gps]\nsource = \"gpsd:\"\n[store]\ndb = \"x\"\n")
	f.Add("[alerts]\nrepeat_every = \"1h\"\nsame_vrm = 5\n")
	f.Add("a = [1, \"x\"]\n[[cameras]]\n[[cameras]]\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "fuzz.toml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config "+p) {
				t.Errorf("error does not name the file: %q", err)
			}
			return
		}
		if len(cfg.Cameras) == 0 || cfg.Store.DB == "" || cfg.Retention.ReadsDays < 1 {
			t.Errorf("accepted an incomplete config: %+v", cfg)
		}
	})
}
