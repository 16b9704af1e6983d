package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/devcert"
	"github.com/ukanpr/anpr/sync/backoffice/storetest"
	"github.com/ukanpr/anpr/sync/uplink"
	_ "modernc.org/sqlite"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Now: time.Now}
	code := m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Commands:"},
		{[]string{"--help"}, 0, "serve"},
		{[]string{"bogus"}, 2, "unknown command"},
		{[]string{"serve", "--db", "x.db"}, 2, "--tls-dir is required"},
		{[]string{"stats"}, 2, "--db is required"},
		{[]string{"user", "add", "--db", "x.db", "--name", "a", "--role", "king"}, 2, "not one of"},
		{[]string{"certs", "--out", "", "--cars", "a"}, 2, "--out is required"},
		{[]string{"audit"}, 2, "usage"},
	} {
		code, out, errs := run(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%v: %d %q %q", tc.args, code, out, errs)
		}
	}
}

// TestEndToEnd: certificates, a user, a hot list from CSV, the service with
// mutual TLS, a car syncing to it, stats, search and the audit chain.
func TestEndToEnd(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			endToEnd(t, kind)
		})
	}
}

func endToEnd(t *testing.T, kind string) {
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs")
	dsn := filepath.Join(dir, "bo.db")
	if kind == "postgres" {
		base := storetest.PostgresDSN(t)
		// A private schema per run, through the search_path option.
		schema := storetest.Schema()
		dsn = withSearchPath(base, schema)
		t.Cleanup(func() {
			s, err := openStore(context.Background(), dsn)
			if err == nil {
				s.(interface {
					DropSchema(context.Context, string) error
				}).DropSchema(context.Background(), schema)
				s.Close()
			}
		})
		createSchema(t, base, schema)
	}
	if code, out, errs := run(t, "certs", "--out", certs, "--cars", "car-1,car-2"); code != 0 || !strings.Contains(out, "2 car certificates") {
		t.Fatalf("certs: %d %s %s", code, out, errs)
	}
	for _, f := range []string{devcert.CAFile, devcert.ServerFile, "car-car-1.pem", "car-car-2-key.pem", devcert.SigningKeyFile, devcert.SigningPubFile} {
		if _, err := os.Stat(filepath.Join(certs, f)); err != nil {
			t.Fatal(err)
		}
	}
	code, tok, errs := run(t, "user", "add", "--db", dsn, "--name", "pc-101", "--role", "analyst")
	if code != 0 || !strings.HasPrefix(tok, "anpr_") {
		t.Fatalf("user add: %d %s %s", code, tok, errs)
	}
	tok = strings.TrimSpace(tok)
	if code, _, errs := run(t, "user", "add", "--db", dsn, "--name", "pc-101", "--role", "analyst"); code != 2 || !strings.Contains(errs, "exists") {
		t.Fatalf("duplicate user: %d %s", code, errs)
	}
	csvPath := filepath.Join(dir, "stolen.csv")
	os.WriteFile(csvPath, []byte("VRM,priority,category,action\nAB12 CDE,1,stolen,stop\nXY51ABC,2,insurance,advise\n"), 0o644)
	if code, out, errs := run(t, "hotlist", "publish", "--db", dsn, "--list", "stolen", csvPath); code != 0 || !strings.Contains(out, "generation 1 with 2 entries") {
		t.Fatalf("publish: %d %s %s", code, out, errs)
	}
	os.WriteFile(csvPath, []byte("vrm,priority,colour\nAB12CDE,12,red\n,1,blue\n"), 0o644)
	if code, _, errs := run(t, "hotlist", "publish", "--db", dsn, "--list", "stolen", csvPath); code != 2 || !strings.Contains(errs, "line 2") || !strings.Contains(errs, "line 3") {
		t.Fatalf("bad CSV: %d %s", code, errs)
	}

	// Serve with mutual TLS on a loopback port of the kernel's choosing.
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var sout, serr bytes.Buffer
	m := &Main{Stdout: &sout, Stderr: &serr, Now: time.Now, Ready: func(a string) { ready <- a }}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--db", dsn, "--tls-dir", certs})
	}()
	var addr string
	select {
	case addr = <-ready:
	case c := <-done:
		t.Fatalf("serve exited %d: %s", c, serr.String())
	}
	defer func() {
		cancel()
		if c := <-done; c != 0 {
			t.Errorf("serve exited %d: %s", c, serr.String())
		}
	}()

	// A car with its certificate drains 50 reads and fetches the list.
	car, err := sqlite.Open(filepath.Join(dir, "car.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer car.Close()
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	for i := range 50 {
		r := app.Read{ID: "e2e-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), VRM: "AB12CDE", Raw: "AB12CDE", Confidence: 0.9,
			Time: base.Add(time.Duration(i) * time.Second), Camera: "front", Position: app.Position{Fix: app.Fix3D, Lat: 53, Lon: -1.5}}
		if err := car.SaveRead(context.Background(), r, nil); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := uplink.TLSConfig(filepath.Join(certs, devcert.CAFile), filepath.Join(certs, "car-car-1.pem"), filepath.Join(certs, "car-car-1-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	c := uplink.NewClient("https://"+addr, hc, car)
	c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c.Hotlists = uplink.ImportStore[*sqlite.Import, sqlite.ImportResult](car)
	c.HotlistKey, err = devcert.PublicKey(filepath.Join(certs, devcert.SigningPubFile))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.SyncOnce(context.Background()); err != nil || res.Stored != 50 {
		t.Fatalf("sync: %+v %v", res, err)
	}
	if err := c.FetchHotlists(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ls, _ := car.HotlistStats(context.Background(), time.Now()); len(ls) == 0 || ls[0].Entries != 2 {
		t.Fatalf("car lists %+v", ls)
	}

	// Search over HTTPS with the user's token.
	body := `{"version":1,"vrm":"AB12CDE","purpose":"stolen vehicle","case_ref":"CR-1"}`
	req, _ := http.NewRequest("POST", "https://"+addr+"/v1/search", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sr backoffice.SearchResponse
	json.NewDecoder(resp.Body).Decode(&sr)
	resp.Body.Close()
	if resp.StatusCode != 200 || sr.Count != 50 || sr.Tier != "recent" {
		t.Fatalf("search %d %+v", resp.StatusCode, sr)
	}

	code, out, errs := run(t, "stats", "--db", dsn, "--json")
	var st backoffice.Stats
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Reads != 50 || st.Vehicles != 1 || !st.Oldest.Equal(base) {
		t.Fatalf("stats: %d %s %s", code, out, errs)
	}
	for _, k := range []string{`"reads"`, `"hits"`, `"decisions"`, `"vehicles"`, `"oldest_read"`, `"newest_read"`} {
		if !strings.Contains(out, k) {
			t.Fatalf("stats lacks %s: %s", k, out)
		}
	}
	code, out, errs = run(t, "audit", "verify", "--db", dsn)
	if code != 0 || !strings.Contains(out, "intact: 3 entries") { // user add, publish, search
		t.Fatalf("audit verify: %d %s %s", code, out, errs)
	}
	if kind == "sqlite" {
		// Edit a row behind the log's back: verify must fail, naming it.
		db, _ := sql.Open("sqlite", dsn)
		if _, err := db.Exec(`DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'someone-else' WHERE seq = 3`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		code, _, errs = run(t, "audit", "verify", "--db", dsn)
		if code != 1 || !strings.Contains(errs, "entry 3") {
			t.Fatalf("tampered audit verify: %d %s", code, errs)
		}
	}
}
