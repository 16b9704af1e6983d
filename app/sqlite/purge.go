package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/ukanpr/anpr/app"
)

// purgeBatch is how many reads one purge transaction deletes, so that reads
// being saved meanwhile wait for a short transaction, not the whole purge.
const purgeBatch = 1000

// PurgeResult says what Purge deleted.
type PurgeResult struct {
	Reads       int // reads, with their images, hits, decisions and outbox items
	OutboxItems int // acknowledged outbox items not tied to a read (wanted entries)
}

// Purge deletes the reads whose outbox items were all acknowledged more than
// keep before now, with their images, hits, decisions and outbox items, and
// acknowledged wanted items as old. A read with any unacknowledged item is
// never deleted, however old. It works in short transactions and records an
// audit event when it deleted anything.
func (db *DB) Purge(ctx context.Context, now time.Time, keep time.Duration) (PurgeResult, error) {
	var res PurgeResult
	cutoff := ms(now.Add(-keep))
	for {
		n, err := db.purgeOnce(ctx, cutoff, &res)
		if err != nil {
			return res, fmt.Errorf("purge reads acknowledged before %s: %w", fromMS(cutoff).Format(time.RFC3339), err)
		}
		if n < purgeBatch {
			break
		}
	}
	if res.Reads > 0 || res.OutboxItems > 0 {
		err := db.Audit(ctx, app.AuditEvent{Time: db.Now(), Actor: "system", Action: "reads.purge",
			Detail: fmt.Sprintf("reads=%d outbox=%d acknowledged_before=%s", res.Reads, res.OutboxItems, fromMS(cutoff).Format(time.RFC3339))})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func (db *DB) purgeOnce(ctx context.Context, cutoff int64, res *PurgeResult) (int, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	n, items, err := purgeTx(ctx, tx, cutoff)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	res.Reads += n
	res.OutboxItems += items
	return n, nil
}

func purgeTx(ctx context.Context, tx *wtx, cutoff int64) (reads, items int, err error) {
	// The NOT EXISTS guard does not trust reads.acked alone: a read is only
	// deleted when none of its items is pending at this moment.
	r, err := tx.ExecContext(ctx, `DELETE FROM reads WHERE seq IN (
		SELECT seq FROM reads WHERE acked IS NOT NULL AND acked < ?
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.read_seq = reads.seq AND o.acked IS NULL)
		LIMIT ?)`, cutoff, purgeBatch)
	if err != nil {
		return 0, 0, err
	}
	n, _ := r.RowsAffected()
	r, err = tx.ExecContext(ctx, "DELETE FROM outbox WHERE read_seq IS NULL AND acked IS NOT NULL AND acked < ?", cutoff)
	if err != nil {
		return 0, 0, err
	}
	m, _ := r.RowsAffected()
	return int(n), int(m), nil
}
