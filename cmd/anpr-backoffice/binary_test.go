package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/devcert"
	"github.com/ukanpr/anpr/sync/backoffice/storetest"
	"github.com/ukanpr/anpr/sync/uplink"
)

// TestBinaryKilledMidSync builds the real anpr-backoffice binary, serves with
// mutual TLS, and kills the back office with SIGKILL while a car drains to it,
// several times: the store must end with exactly the car's reads.
func TestBinaryKilledMidSync(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and restarts it several times")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "anpr-backoffice")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) { binaryKilled(t, bin, kind) })
	}
}

func binaryKilled(t *testing.T, bin, kind string) {
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs")
	dsn := filepath.Join(dir, "bo.db")
	if kind == "postgres" {
		base := storetest.PostgresDSN(t)
		schema := storetest.Schema()
		createSchema(t, base, schema)
		dsn = withSearchPath(base, schema)
		t.Cleanup(func() {
			if s, err := openStore(context.Background(), dsn); err == nil {
				s.(interface {
					DropSchema(context.Context, string) error
				}).DropSchema(context.Background(), schema)
				s.Close()
			}
		})
	}
	if out, err := exec.Command(bin, "certs", "--out", certs, "--cars", "car-1").CombinedOutput(); err != nil {
		t.Fatalf("certs: %v %s", err, out)
	}
	serve := func() (*exec.Cmd, string) {
		cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--db", dsn, "--tls-dir", certs)
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if err != nil || !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("serve said %q: %v", line, err)
		}
		return cmd, addr
	}

	car, err := sqlite.Open(filepath.Join(dir, "car.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer car.Close()
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	want := map[string]bool{}
	var batch []sqlite.ReadWithHit
	for i := range 2000 {
		id := fmt.Sprintf("bin-%05d", i)
		want[id] = true
		batch = append(batch, sqlite.ReadWithHit{Read: app.Read{ID: id, VRM: fmt.Sprintf("AB%02dCDE", i%10), Raw: "x", Confidence: 0.9,
			Time: base.Add(time.Duration(i) * time.Second), Camera: "front", Patch: make([]byte, 2000),
			Position: app.Position{Fix: app.Fix3D, Lat: 53, Lon: -1.5}}})
	}
	if err := car.SaveReads(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	cfg, err := uplink.TLSConfig(filepath.Join(certs, devcert.CAFile), filepath.Join(certs, "car-car-1.pem"), filepath.Join(certs, "car-car-1-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	c := uplink.NewClient("", &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 20 * time.Second}, car)
	c.BatchItems = 25
	c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	kills := 0
	for range 6 {
		cmd, addr := serve()
		c.URL = addr
		done := make(chan error, 1)
		go func() { _, err := c.SyncOnce(context.Background()); done <- err }()
		time.Sleep(time.Duration(20+rng.IntN(180)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if err := <-done; err != nil {
			kills++
		}
	}
	if kills == 0 {
		t.Fatal("the car finished every time before the back office was killed: the kills test nothing")
	}
	cmd, addr := serve()
	c.URL = addr
	_, err = c.SyncOnce(context.Background())
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	st, err := car.OutboxStats(context.Background())
	if err != nil || st.Pending != 0 {
		t.Fatalf("car outbox %+v %v", st, err)
	}
	t.Logf("%s: back office killed %d times while the car was sending", kind, kills)

	s, err := openStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[string]bool{}
	for v := range 10 {
		recs, err := s.SearchReads(context.Background(), backoffice.ReadQuery{VRM: fmt.Sprintf("AB%02dCDE", v), From: base.Add(-time.Hour), To: time.Now().Add(time.Hour), Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if got[r.ID] {
				t.Fatalf("read %s stored twice", r.ID)
			}
			got[r.ID] = true
		}
	}
	if len(got) != len(want) {
		t.Fatalf("back office holds %d reads, the car %d", len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Fatalf("read %s lost", id)
		}
	}
}
