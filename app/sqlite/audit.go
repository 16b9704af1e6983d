package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ukanpr/anpr/app"
)

// ErrAuditTampered is returned by VerifyAudit when the chain of hashes is
// broken: an event was changed, removed or inserted outside this package.
var ErrAuditTampered = errors.New("audit log does not match its hash chain")

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

const (
	sqlAuditLast   = "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1"
	sqlAuditInsert = "INSERT INTO audit (time, actor, action, detail, hash) VALUES (?, ?, ?, ?, ?)"
)

// auditHash chains an event to the one before it: SHA-256 over the previous
// hash (32 zero bytes for the first event), the time in milliseconds (8 bytes,
// big-endian), then actor, action and detail, each as a uvarint length and
// its bytes.
func auditHash(prev []byte, timeMS int64, actor, action, detail string) []byte {
	h := sha256.New()
	if len(prev) == 0 {
		prev = make([]byte, sha256.Size)
	}
	h.Write(prev)
	var b []byte
	b = binary.BigEndian.AppendUint64(b, uint64(timeMS))
	for _, s := range [...]string{actor, action, detail} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	h.Write(b)
	return h.Sum(nil)
}

func auditTx(ctx context.Context, tx *wtx, ev app.AuditEvent) error {
	switch {
	case ev.Action == "":
		return errors.New("audit event has no action")
	case ev.Actor == "":
		return errors.New("audit event has no actor")
	case ev.Time.IsZero():
		return errors.New("audit event has no time")
	}
	var prev []byte
	err := tx.QueryRowContext(ctx, sqlAuditLast).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("append audit event: %w", err)
	}
	t := ms(ev.Time)
	_, err = tx.ExecContext(ctx, sqlAuditInsert, t, ev.Actor, ev.Action, ev.Detail,
		auditHash(prev, t, ev.Actor, ev.Action, ev.Detail))
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

// VerifyAudit recomputes the audit log's hash chain from its first event and
// returns ErrAuditTampered, naming the first event that does not match, when
// any was changed, removed or inserted.
func (db *DB) VerifyAudit(ctx context.Context) error {
	rows, err := db.r.QueryContext(ctx, "SELECT seq, time, actor, action, detail, hash FROM audit ORDER BY seq")
	if err != nil {
		return fmt.Errorf("verify audit log: %w", err)
	}
	defer rows.Close()
	var prev []byte
	for rows.Next() {
		var (
			seq, t                int64
			actor, action, detail string
			hash                  []byte
		)
		if err := rows.Scan(&seq, &t, &actor, &action, &detail, &hash); err != nil {
			return fmt.Errorf("verify audit log: %w", err)
		}
		want := auditHash(prev, t, actor, action, detail)
		if !bytes.Equal(hash, want) {
			return fmt.Errorf("verify audit log: event %d (%s by %s): %w", seq, action, actor, ErrAuditTampered)
		}
		prev = hash
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("verify audit log: %w", err)
	}
	return nil
}
