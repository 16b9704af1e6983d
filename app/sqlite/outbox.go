package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ukanpr/anpr/app"
)

// OutboxPending returns the oldest unacknowledged items in drain order (hits,
// decisions, wanted entries, reads with their patches, overviews), at most
// limit of them and, after the first, no more than maxBytes of payload in
// all; maxBytes ≤ 0 means no byte bound. The first item always comes, however
// large, so one big item cannot stall the queue. Items stay pending until
// OutboxAck.
func (db *DB) OutboxPending(ctx context.Context, limit int, maxBytes int) ([]app.OutboxItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	defer tx.Rollback()
	items, err := outboxPendingTx(ctx, tx, limit, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	return items, nil
}

type pendingRow struct {
	item       app.OutboxItem
	readSeq    sql.NullInt64
	decisionID sql.NullInt64
	payload    sql.NullString
}

func outboxPendingTx(ctx context.Context, tx *sql.Tx, limit, maxBytes int) ([]app.OutboxItem, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, kind, queued, read_seq, decision_id, payload, bytes
		FROM outbox WHERE acked IS NULL ORDER BY prio, seq LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	var (
		pend  []pendingRow
		total int
	)
	for rows.Next() {
		var (
			p      pendingRow
			queued int64
		)
		if err := rows.Scan(&p.item.Seq, &p.item.Kind, &queued, &p.readSeq, &p.decisionID, &p.payload, &p.item.Bytes); err != nil {
			rows.Close()
			return nil, err
		}
		if maxBytes > 0 && len(pend) > 0 && total+p.item.Bytes > maxBytes {
			break
		}
		total += p.item.Bytes
		p.item.Queued = fromMS(queued)
		pend = append(pend, p)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	items := make([]app.OutboxItem, 0, len(pend))
	for _, p := range pend {
		if err := loadOutboxItem(ctx, tx, &p); err != nil {
			return nil, fmt.Errorf("item %d (%s): %w", p.item.Seq, p.item.Kind, err)
		}
		items = append(items, p.item)
	}
	return items, nil
}

func loadOutboxItem(ctx context.Context, tx *sql.Tx, p *pendingRow) error {
	it := &p.item
	switch it.Kind {
	case app.OutboxRead:
		row := tx.QueryRowContext(ctx, "SELECT "+readCols+", i.patch, NULL FROM reads r "+
			"LEFT JOIN read_images i ON i.read_seq = r.seq WHERE r.seq = ?", p.readSeq)
		_, r, err := scanRead(row, true)
		if err != nil {
			return err
		}
		it.Read = &r
	case app.OutboxOverview:
		r := app.Read{}
		err := tx.QueryRowContext(ctx, "SELECT r.id, i.overview FROM reads r "+
			"LEFT JOIN read_images i ON i.read_seq = r.seq WHERE r.seq = ?", p.readSeq).Scan(&r.ID, &r.Overview)
		if err != nil {
			return err
		}
		it.Read = &r
	case app.OutboxHit:
		var id string
		if err := tx.QueryRowContext(ctx, "SELECT id FROM reads WHERE seq = ?", p.readSeq).Scan(&id); err != nil {
			return err
		}
		h, err := hitTx(ctx, tx, id)
		if err != nil {
			return err
		}
		it.Hit = &h
	case app.OutboxDecision:
		var (
			d app.Decision
			t int64
		)
		err := tx.QueryRowContext(ctx, `SELECT r.id, d.outcome, d.reason, d.officer, d.time FROM decisions d
			JOIN reads r ON r.seq = d.read_seq WHERE d.id = ?`, p.decisionID).Scan(&d.ReadID, &d.Outcome, &d.Reason, &d.Officer, &t)
		if err != nil {
			return err
		}
		d.Time = fromMS(t)
		it.Decision = &d
	case app.OutboxWanted:
		var e app.HotlistEntry
		if err := json.Unmarshal([]byte(p.payload.String), &e); err != nil {
			return err
		}
		it.Wanted = &e
	default:
		return errors.New("unknown outbox kind")
	}
	return nil
}

// OutboxAck marks items acknowledged at at. Call it only once the back
// office has committed them. Acknowledging an item again, or one that is
// gone, does nothing. A read becomes eligible for purging once all its items
// are acknowledged.
func (db *DB) OutboxAck(ctx context.Context, seqs []int64, at time.Time) error {
	if len(seqs) == 0 {
		return nil
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("acknowledge %d outbox items: %w", len(seqs), err)
	}
	defer tx.Rollback()
	if err := outboxAckTx(ctx, tx, seqs, at); err != nil {
		return fmt.Errorf("acknowledge %d outbox items: %w", len(seqs), err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("acknowledge %d outbox items: %w", len(seqs), err)
	}
	return nil
}

func outboxAckTx(ctx context.Context, tx *wtx, seqs []int64, at time.Time) error {
	reads := map[int64]bool{}
	const chunk = 500
	for start := 0; start < len(seqs); start += chunk {
		part := seqs[start:min(start+chunk, len(seqs))]
		args := make([]any, 0, len(part)+1)
		args = append(args, ms(at))
		for _, s := range part {
			args = append(args, s)
		}
		rows, err := tx.QueryContext(ctx, "UPDATE outbox SET acked = ? WHERE acked IS NULL AND seq IN (?"+
			strings.Repeat(",?", len(part)-1)+") RETURNING read_seq", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var rs sql.NullInt64
			if err := rows.Scan(&rs); err != nil {
				rows.Close()
				return err
			}
			if rs.Valid {
				reads[rs.Int64] = true
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	for seq := range reads {
		_, err := tx.ExecContext(ctx, `UPDATE reads SET acked = ? WHERE seq = ?
			AND NOT EXISTS (SELECT 1 FROM outbox WHERE read_seq = ? AND acked IS NULL)`, ms(at), seq, seq)
		if err != nil {
			return fmt.Errorf("mark read acknowledged: %w", err)
		}
	}
	_, err := tx.ExecContext(ctx, "UPDATE meta SET value = max(value, ?) WHERE key = 'outbox_last_ack'", ms(at))
	return err
}

// OutboxStats describes the queue waiting for the back office.
func (db *DB) OutboxStats(ctx context.Context) (app.OutboxStats, error) {
	var (
		s       app.OutboxStats
		oldest  sql.NullInt64
		lastAck int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(bytes), 0), min(queued),
		(SELECT value FROM meta WHERE key = 'outbox_last_ack') FROM outbox WHERE acked IS NULL`).
		Scan(&s.Pending, &s.PendingBytes, &oldest, &lastAck)
	if err != nil {
		return s, fmt.Errorf("outbox stats: %w", err)
	}
	s.OldestPending = fromNullMS(oldest)
	if lastAck != 0 {
		s.LastAck = fromMS(lastAck)
	}
	return s, nil
}
