package uplink_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app/sqlite"
	"github.com/ukanpr/anpr/sync/backoffice/devcert"
	"github.com/ukanpr/anpr/sync/uplink"
)

// Environment of the car child process (see TestMain).
const (
	envChild = "ANPR_UPLINK_TEST_CHILD"
	envDB    = "ANPR_UPLINK_TEST_DB"
	envURL   = "ANPR_UPLINK_TEST_URL"
	envCerts = "ANPR_UPLINK_TEST_CERTS"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		os.Exit(carChild())
	}
	os.Exit(m.Run())
}

// carChild is the car: it drains its outbox to the back office and exits 0
// when the outbox is empty. The parent kills it with SIGKILL at random.
func carChild() int {
	db, err := sqlite.Open(os.Getenv(envDB))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	dir := os.Getenv(envCerts)
	cf, kf := devcert.CarFiles("car-1")
	cfg, err := uplink.TLSConfig(filepath.Join(dir, devcert.CAFile), filepath.Join(dir, cf), filepath.Join(dir, kf))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c := uplink.NewClient(os.Getenv(envURL), &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 30 * time.Second}, db)
	c.BatchItems = 20
	c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 100 {
		if _, err := c.SyncOnce(context.Background()); err == nil {
			return 0
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 1
}

// TestSIGKILLMidSync kills the car process with SIGKILL in the middle of
// syncing, many times, then lets it finish: the back office must end with
// exactly the car's reads, none lost, none twice.
func TestSIGKILLMidSync(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary many times")
	}
	forEachStore(t, func(t *testing.T, kind string) {
		srv := startServer(t, kind)
		path := filepath.Join(t.TempDir(), "car.db")
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		base := time.Now().Add(-2 * time.Hour).UTC()
		want := seed(t, db, "k", 1500, base)
		db.Close()

		run := func() *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envChild+"=1", envDB+"="+path, envURL+"="+srv.URL, envCerts+"="+srv.Dir)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			return cmd
		}
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		killed := 0
		for range 15 {
			// Kill once the car is sending: after it has posted a batch,
			// at a random point in the batches that follow.
			before := srv.Faults.batches.Load()
			cmd := run()
			for deadline := time.Now().Add(10 * time.Second); srv.Faults.batches.Load() == before && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
				killed++
			}
		}
		if killed < 10 {
			t.Fatalf("only %d of 15 runs were killed before finishing: the kill points miss the sync", killed)
		}
		beforeFinal := srv.Faults.batches.Load()
		cmd := run()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("final car run: %v", err)
			}
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatal("final car run did not finish")
		}
		t.Logf("%s: car killed %d times mid-sync, posting %d batches; the final run posted %d", kind, killed, beforeFinal, srv.Faults.batches.Load()-beforeFinal)
		sameIDs(t, want, backofficeIDs(t, srv.Store, base.Add(-time.Hour), time.Now().Add(time.Hour)))
		car := openCar(t, path)
		if st, err := car.OutboxStats(context.Background()); err != nil || st.Pending != 0 {
			t.Fatalf("car outbox after the final run: %+v %v", st, err)
		}
		bs, _ := srv.Store.Stats(context.Background())
		if bs.Reads != int64(len(want)) || bs.Hits != 150 || bs.Decisions != 75 {
			t.Fatalf("back office stats %+v", bs)
		}
	})
}
