package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
)

// crashChildEnv switches the test binary into the writer child of
// TestCrashDurability; its value is the database path.
const crashChildEnv = "ANPR_SQLITE_CRASH_CHILD"

// crashChild saves reads in a loop, alone or in batches, and prints each id
// on stdout only after the save that stored it returned. It runs until it is
// killed.
func crashChild(path string) int {
	db, err := sqlite.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := os.Stdout // unbuffered: a printed line is in the pipe before the next save
	prefix := fmt.Sprintf("p%d-%d", os.Getpid(), time.Now().UnixNano())
	ctx := context.Background()
	for i := 0; ; i++ {
		batch := 1 + i%4 // single reads and batches of up to 4
		reads := make([]sqlite.ReadWithHit, batch)
		for j := range reads {
			id := fmt.Sprintf("%s-%d-%d", prefix, i, j)
			r := testRead(id, "AB12CDE", t0.Add(time.Duration(i)*time.Millisecond))
			reads[j].Read = r
			if j == 0 && i%3 == 0 {
				reads[j].Hit = &app.Hit{ReadID: id, Time: r.Time, Matches: []app.Match{{
					Entry: app.HotlistEntry{ID: 7, List: "pnc", VRM: "AB12CDE", Priority: 1}, Kind: app.MatchExact, Candidate: "AB12CDE"}}}
			}
		}
		if batch == 1 {
			err = db.SaveRead(ctx, reads[0].Read, reads[0].Hit)
		} else {
			err = db.SaveReads(ctx, reads)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var b strings.Builder
		for _, r := range reads {
			b.WriteString(r.Read.ID + "\n")
		}
		if _, err := io.WriteString(out, b.String()); err != nil {
			return 1
		}
	}
}

// TestCrashDurability kills a writer process with SIGKILL at random moments,
// over and over on the same file, and checks that every read it reported
// committed is there, whole, and that the file passes integrity_check.
//
// SIGKILL shows what a process crash leaves; it cannot show what a power cut
// leaves (the page cache survives a killed process). That part rests on
// synchronous=FULL, which syncs the WAL before each commit returns.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process 30 times")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "car.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	const rounds = 30
	var committed []string
	start := time.Now()
	for round := range rounds {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ids := make(chan []string, 1)
		go func() {
			b, _ := io.ReadAll(stdout)
			// Only whole lines count: a line without its newline was not
			// finished when the child died.
			lines := strings.Split(string(b), "\n")
			ids <- lines[:len(lines)-1]
		}()
		wait := time.Duration(20+rng.IntN(281)) * time.Millisecond
		time.Sleep(wait)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		got := <-ids
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not killed: %s", round, err, stderr.String())
		}
		committed = append(committed, got...)
		t.Logf("round %d: killed after %v, %d reads reported", round, wait, len(got))
	}
	if len(committed) == 0 {
		t.Fatal("the child never reported a committed read")
	}

	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range committed {
		r, err := db.Read(ctx, id)
		if err != nil {
			t.Fatalf("read %s reported committed: %v", id, err)
		}
		want := testRead(id, "AB12CDE", r.Time)
		sameRead(t, r, want)
	}
	st, err := db.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Every committed read queued a read and an overview item at least.
	if st.Pending < 2*len(committed) {
		t.Errorf("%d outbox items pending for %d committed reads", st.Pending, len(committed))
	}
	t.Logf("%d rounds, %d reads reported committed, all present; %v", rounds, len(committed), time.Since(start))
}
