package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ukanpr/anpr/app"
)

// Audit appends an event to the audit log. A zero Time becomes now. The log
// is append-only: there is no way to change or remove an event.
func (db *DB) Audit(ctx context.Context, ev app.AuditEvent) error {
	if ev.Time.IsZero() {
		ev.Time = db.Now()
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("audit %s: %w", ev.Action, err)
	}
	defer tx.Rollback()
	if err := auditTx(ctx, tx, ev); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Action, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Action, err)
	}
	return nil
}

const sqlAuditInsert = "INSERT INTO audit (time, actor, action, detail) VALUES (?, ?, ?, ?)"

func auditTx(ctx context.Context, tx *wtx, ev app.AuditEvent) error {
	switch {
	case ev.Action == "":
		return errors.New("audit event has no action")
	case ev.Actor == "":
		return errors.New("audit event has no actor")
	case ev.Time.IsZero():
		return errors.New("audit event has no time")
	}
	_, err := tx.ExecContext(ctx, sqlAuditInsert, ms(ev.Time), ev.Actor, ev.Action, ev.Detail)
	if err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return nil
}

// AuditEvents returns up to limit events at or after since, oldest first (in
// the order they were appended when times are equal). limit ≤ 0 means all.
func (db *DB) AuditEvents(ctx context.Context, since time.Time, limit int) ([]app.AuditEvent, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := db.r.QueryContext(ctx, "SELECT time, actor, action, detail FROM audit WHERE time >= ? ORDER BY time, seq LIMIT ?",
		ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("audit events since %s: %w", since.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []app.AuditEvent
	for rows.Next() {
		var (
			ev app.AuditEvent
			t  int64
		)
		if err := rows.Scan(&t, &ev.Actor, &ev.Action, &ev.Detail); err != nil {
			return nil, fmt.Errorf("audit events: %w", err)
		}
		ev.Time = fromMS(t)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit events: %w", err)
	}
	return out, nil
}
