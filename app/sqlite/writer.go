package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ukanpr/anpr/app"
)

// ErrWriterStopped is returned by Writer.Save once the writer is stopped.
var ErrWriterStopped = errors.New("read writer stopped")

// Writer saves reads with group commit: the reads that callers hand it while
// a transaction is committing go into the next transaction together, so one
// sync covers them all. Save still returns only after its own read is
// committed: nothing is told about a read before it is durable.
//
//	Save ──saveReq──▶ run: take 1..MaxBatch queued ──SaveReads (one tx, one sync)──▶ reply to each
//
// Backpressure: Save blocks while the queue is full and until its read is
// committed; a read is never dropped.
type Writer struct {
	// MaxBatch bounds the reads of one transaction; 64 when zero.
	MaxBatch int

	db     *DB
	queue  chan saveReq
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex // guards stop and the closing of queue
	stop   bool

	batches, saved atomic.Int64
}

// Stats returns how many transactions the writer has committed and how many
// reads they held: saved/batches is the group-commit factor.
func (w *Writer) Stats() (batches, reads int64) {
	return w.batches.Load(), w.saved.Load()
}

type saveReq struct {
	rh   ReadWithHit
	done chan error
}

// NewWriter returns a writer that saves into db. Start it before use, and
// stop it before closing db.
func NewWriter(db *DB) *Writer {
	return &Writer{db: db}
}

// Start starts the goroutine that commits batches. When ctx is done, or Stop
// is called, the writer takes no more reads, commits the ones queued, and
// ends.
func (w *Writer) Start(ctx context.Context) {
	if w.MaxBatch <= 0 {
		w.MaxBatch = 64
	}
	w.queue = make(chan saveReq, w.MaxBatch)
	ctx, w.cancel = context.WithCancel(ctx)
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		<-ctx.Done()
		w.closeQueue()
	}()
	go func() {
		defer w.wg.Done()
		w.run(ctx)
	}()
}

// Stop takes no more reads, commits the ones queued and waits for the writer
// to end. Later calls to Save return ErrWriterStopped.
func (w *Writer) Stop() {
	w.closeQueue()
	w.cancel()
	w.wg.Wait()
}

func (w *Writer) closeQueue() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stop {
		w.stop = true
		close(w.queue)
	}
}

// Save queues a read (and its hit, when not nil) and returns once it is
// committed, or with the error that kept it from being committed.
func (w *Writer) Save(ctx context.Context, r app.Read, hit *app.Hit) error {
	if err := validRead(r, hit); err != nil {
		return fmt.Errorf("save read %s: %w", r.ID, err)
	}
	req := saveReq{rh: ReadWithHit{Read: r, Hit: hit}, done: make(chan error, 1)}
	w.mu.Lock()
	if w.stop {
		w.mu.Unlock()
		return fmt.Errorf("save read %s: %w", r.ID, ErrWriterStopped)
	}
	// Sending under the lock keeps Stop from closing the queue under us;
	// the run loop never takes the lock, so a full queue drains meanwhile.
	select {
	case w.queue <- req:
	case <-ctx.Done():
		w.mu.Unlock()
		return fmt.Errorf("save read %s: %w", r.ID, ctx.Err())
	}
	w.mu.Unlock()
	// Once queued, the read will be committed or fail: wait for which,
	// whatever ctx does, so the caller never mistakes a committed read for
	// a lost one.
	return <-req.done
}

func (w *Writer) run(ctx context.Context) {
	batch := make([]saveReq, 0, w.MaxBatch)
	reads := make([]ReadWithHit, 0, w.MaxBatch)
	for req := range w.queue {
		batch = append(batch[:0], req)
		// Let the producers that the last commit woke queue their next
		// reads before the batch closes.
		runtime.Gosched()
	fill:
		for len(batch) < w.MaxBatch {
			select {
			case req, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, req)
			default:
				break fill
			}
		}
		reads = reads[:0]
		for _, b := range batch {
			reads = append(reads, b.rh)
		}
		// The store's own context, not a caller's: a queued read is
		// committed even if whoever queued it has given up waiting.
		err := w.db.SaveReads(context.WithoutCancel(ctx), reads)
		if err == nil {
			w.batches.Add(1)
			w.saved.Add(int64(len(reads)))
		}
		if err == nil || len(batch) == 1 {
			for _, b := range batch {
				b.done <- err
			}
			continue
		}
		// One bad read must not fail the others: save them one by one.
		for _, b := range batch {
			b.done <- w.db.SaveRead(context.WithoutCancel(ctx), b.rh.Read, b.rh.Hit)
		}
	}
}
