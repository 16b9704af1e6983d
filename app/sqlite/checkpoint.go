package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"
)

// checkpointer copies committed pages from the WAL back into the database
// file on its own connection and goroutine. SQLite would otherwise do it
// inside whichever commit crosses the auto-checkpoint threshold: a SaveRead
// that happens to pay for thousands of page writes and an extra fsync.
//
// Kicks come from the writer after each commit (a buffered channel of one:
// kicks coalesce, the writer never blocks). After a kick the checkpointer
// waits a little so that a burst of commits costs one checkpoint.
type checkpointer struct {
	db     *sql.DB
	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// checkpointDelay coalesces the commits of a burst into one checkpoint.
const checkpointDelay = 250 * time.Millisecond

// restartFrames is the WAL length at which the checkpointer stops being
// polite: a PASSIVE checkpoint never waits for the writer, so under constant
// writing the WAL could keep growing; RESTART waits for a gap between write
// transactions and lets the next writer start the WAL from its beginning.
const restartFrames = 8192

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

// notify tells the checkpointer the WAL grew. It never blocks.
func (c *checkpointer) notify() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointDelay):
		}
		frames, err := c.checkpoint(ctx, "PASSIVE")
		if err == nil && frames > restartFrames {
			_, err = c.checkpoint(ctx, "RESTART")
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			slog.Warn("sqlite checkpoint", "err", err)
		}
	}
}

// checkpoint runs one checkpoint of the given mode and returns the WAL's
// length in frames.
func (c *checkpointer) checkpoint(ctx context.Context, mode string) (int, error) {
	var busy, frames, done int
	err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &done)
	return frames, err
}

// stop ends the goroutine and closes its connection.
func (c *checkpointer) stop() error {
	c.cancel()
	<-c.done
	return c.db.Close()
}
