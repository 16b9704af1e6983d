package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
)

func TestWriter(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	w := sqlite.NewWriter(db)
	w.MaxBatch = 16
	w.Start(ctx)

	const goroutines, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("g%d-%d", g, i)
				r := testRead(id, "AB12CDE", t0.Add(time.Duration(i)*time.Second))
				var h *app.Hit
				if i%10 == 0 {
					h = testHit(id, r.Time, app.HotlistEntry{ID: 1, List: "pnc", VRM: "AB12CDE", Priority: 1})
				}
				if err := w.Save(ctx, r, h); err != nil {
					errs <- err
					return
				}
				// Committed when Save returns: visible to another
				// connection at once.
				if _, err := db.Read(ctx, id); err != nil {
					errs <- fmt.Errorf("after Save: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := w.Save(ctx, app.Read{ID: "no-time", VRM: "AB12CDE"}, nil); err == nil {
		t.Error("Save of a read without a time succeeded")
	}
	w.Stop()
	if err := w.Save(ctx, testRead("late", "AB12CDE", t0), nil); !errors.Is(err, sqlite.ErrWriterStopped) {
		t.Errorf("Save after Stop: %v, want ErrWriterStopped", err)
	}
	reads, err := db.Reads(ctx, sqlite.ReadQuery{Limit: 1000})
	if err != nil || len(reads) != goroutines*each {
		t.Errorf("%d reads stored, %v; want %d", len(reads), err, goroutines*each)
	}
	hits, _ := db.Reads(ctx, sqlite.ReadQuery{Limit: 1000, HitsOnly: true})
	if len(hits) != goroutines*each/10 {
		t.Errorf("%d hits stored, want %d", len(hits), goroutines*each/10)
	}
}

func TestWriterStopsWithContext(t *testing.T) {
	db := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	w := sqlite.NewWriter(db)
	w.Start(ctx)
	if err := w.Save(context.Background(), testRead("r1", "AB12CDE", t0), nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := w.Save(context.Background(), testRead("r2", "AB12CDE", t0), nil)
		if errors.Is(err, sqlite.ErrWriterStopped) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writer still takes reads after its context ended (last: %v)", err)
		}
		time.Sleep(time.Millisecond)
	}
	w.Stop()
}

func TestSaveReadNonFinite(t *testing.T) {
	db := openTest(t)
	r := testRead("nan", "AB12CDE", t0)
	r.Confidence = math.NaN()
	r.Candidates = []app.Candidate{{Text: "AB12CDE", Confidence: math.Inf(1)}}
	r.CharConfidences = []float64{0.5, math.NaN()}
	if err := db.SaveRead(context.Background(), r, nil); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(r.CharConfidences[1]) {
		t.Error("SaveRead changed the caller's slice")
	}
	got, err := db.Read(context.Background(), "nan")
	if err != nil {
		t.Fatal(err)
	}
	if got.Confidence != 0 || got.Candidates[0].Confidence != 0 || got.CharConfidences[0] != 0.5 || got.CharConfidences[1] != 0 {
		t.Errorf("stored %v %v %v", got.Confidence, got.Candidates, got.CharConfidences)
	}
}
