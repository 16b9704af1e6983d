// Package sqlitestore keeps the back office in one SQLite file
// (modernc.org/sqlite, no cgo): the zero-set-up default for a small force or a
// developer. It implements backoffice.Store.
//
// The file is opened in WAL mode with foreign keys on and immediate write
// transactions, so writers queue on the busy timeout instead of failing on
// lock upgrades. The WAL is checkpointed every 16384 pages (64 MiB) rather
// than SQLite's 1000: ingest rewrites the same index pages batch after batch,
// and checkpointing less often writes each of them back once instead of many
// times (about a third more reads per CPU-second in bench/backoffice). The
// audit table refuses UPDATE and DELETE by trigger.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/wire"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// DB is a back-office store in one SQLite file.
type DB struct {
	db *sql.DB
}

var _ backoffice.Store = (*DB)(nil)

// Open opens (creating if needed) the store at path and applies migrations.
func Open(path string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(30000)", "synchronous(NORMAL)", "cache_size(-65536)", "wal_autocheckpoint(16384)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &DB{db: db}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// Close closes the file.
func (s *DB) Close() error { return s.db.Close() }

var migrations = []string{
	`CREATE TABLE reads (
		id TEXT PRIMARY KEY, car TEXT NOT NULL, vrm TEXT NOT NULL, raw TEXT NOT NULL, confidence REAL NOT NULL,
		captured INTEGER NOT NULL, camera TEXT NOT NULL, fix TEXT NOT NULL, lat REAL, lon REAL, fix_age_ms INTEGER,
		estimated INTEGER NOT NULL, speed_mps REAL, heading_deg REAL, hdop REAL, sats INTEGER, alt_m REAL,
		clock_source TEXT NOT NULL, clock_offset_ms INTEGER NOT NULL, clock_suspect INTEGER NOT NULL,
		format TEXT NOT NULL, pass_id TEXT NOT NULL, candidates TEXT, char_conf TEXT, patch BLOB, received INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX reads_vrm ON reads(vrm, captured);
	CREATE INDEX reads_captured ON reads(captured);
	CREATE TABLE overviews (read_id TEXT PRIMARY KEY, car TEXT NOT NULL, jpeg BLOB NOT NULL, received INTEGER NOT NULL);
	CREATE TABLE hits (read_id TEXT NOT NULL, hit_time INTEGER NOT NULL, car TEXT NOT NULL, vrm TEXT NOT NULL, past INTEGER NOT NULL,
		matches TEXT NOT NULL, received INTEGER NOT NULL, PRIMARY KEY (read_id, hit_time));
	CREATE INDEX hits_vrm ON hits(vrm);
	CREATE TABLE decisions (read_id TEXT NOT NULL, decided INTEGER NOT NULL, officer TEXT NOT NULL, outcome TEXT NOT NULL,
		reason TEXT NOT NULL, car TEXT NOT NULL, received INTEGER NOT NULL, PRIMARY KEY (read_id, decided, officer));
	CREATE TABLE wanted (car TEXT NOT NULL, vrm TEXT NOT NULL, added INTEGER NOT NULL, entry TEXT NOT NULL,
		received INTEGER NOT NULL, PRIMARY KEY (car, vrm, added));
	CREATE TABLE hotlists (list TEXT NOT NULL, generation INTEGER NOT NULL, published INTEGER NOT NULL,
		published_by TEXT NOT NULL, entries INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (list, generation));
	CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE, created INTEGER NOT NULL);
	CREATE TABLE authorisations (id TEXT PRIMARY KEY, case_ref TEXT NOT NULL, investigation TEXT NOT NULL, reason TEXT NOT NULL,
		granted_by TEXT NOT NULL, granted INTEGER NOT NULL, expires INTEGER NOT NULL);
	CREATE TABLE audit (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
		detail TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);
	CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
	CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`,
}

// migrate applies the migrations the file has not seen, each in a transaction.
func (s *DB) migrate(ctx context.Context) error {
	for {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var v int
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			tx.Rollback()
			return err
		}
		if v >= len(migrations) {
			return tx.Rollback()
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}

func ms(t time.Time) int64     { return t.UnixMilli() }
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }
func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Ingest implements backoffice.Store.
func (s *DB) Ingest(ctx context.Context, car string, items []wire.Item, received time.Time) (backoffice.Ingested, error) {
	var res backoffice.Ingested
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	var readStmt *sql.Stmt
	rcv := ms(received)
	for i, it := range items {
		var r sql.Result
		switch it.Kind {
		case wire.KindRead:
			if readStmt == nil {
				if readStmt, err = tx.PrepareContext(ctx, `INSERT INTO reads (id, car, vrm, raw, confidence, captured, camera, fix, lat, lon,
					fix_age_ms, estimated, speed_mps, heading_deg, hdop, sats, alt_m, clock_source, clock_offset_ms, clock_suspect,
					format, pass_id, candidates, char_conf, patch, received)
					VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`); err != nil {
					return res, err
				}
				defer readStmt.Close()
			}
			d := it.Read
			p := d.Position
			var cands, chars any
			if len(d.Candidates) > 0 {
				cands = jsonText(d.Candidates)
			}
			if len(d.CharConfidences) > 0 {
				chars = jsonText(d.CharConfidences)
			}
			r, err = readStmt.ExecContext(ctx, d.ID, car, d.VRM, d.Raw, d.Confidence, ms(d.Time), d.Camera, p.Fix, p.Lat, p.Lon,
				p.AgeMS, boolInt(p.Estimated), p.SpeedMPS, nullFloat(p.HeadingDeg), p.HDOP, p.Sats, nullFloat(p.AltM),
				d.ClockSource, d.ClockOffsetMS, boolInt(d.ClockSuspect), d.Format, d.PassID, cands, chars, d.Patch, rcv)
		case wire.KindOverview:
			r, err = tx.ExecContext(ctx, `INSERT INTO overviews (read_id, car, jpeg, received) VALUES (?,?,?,?) ON CONFLICT DO NOTHING`,
				it.Overview.ReadID, car, it.Overview.JPEG, rcv)
		case wire.KindHit:
			h := it.Hit
			r, err = tx.ExecContext(ctx, `INSERT INTO hits (read_id, hit_time, car, vrm, past, matches, received) VALUES (?,?,?,?,?,?,?)
				ON CONFLICT DO NOTHING`, h.ReadID, ms(h.Time), car, h.VRM, boolInt(h.Past), jsonText(h.Matches), rcv)
		case wire.KindDecision:
			d := it.Decision
			r, err = tx.ExecContext(ctx, `INSERT INTO decisions (read_id, decided, officer, outcome, reason, car, received) VALUES (?,?,?,?,?,?,?)
				ON CONFLICT DO NOTHING`, d.ReadID, ms(d.Time), d.Officer, d.Outcome, d.Reason, car, rcv)
		case wire.KindWanted:
			e := it.Wanted
			var added int64
			if e.Added != nil {
				added = ms(*e.Added)
			}
			r, err = tx.ExecContext(ctx, `INSERT INTO wanted (car, vrm, added, entry, received) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING`,
				car, e.VRM, added, jsonText(e), rcv)
		default:
			return res, fmt.Errorf("%w: item %d kind %q", backoffice.ErrInvalid, i, it.Kind)
		}
		if err != nil {
			return res, fmt.Errorf("item %d (%s): %w", i, it.Kind, err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			res.Stored++
		} else {
			res.Duplicates++
		}
	}
	return res, tx.Commit()
}

// PublishHotlist implements backoffice.Store.
func (s *DB) PublishHotlist(ctx context.Context, list string, entries []wire.Entry, by string, at time.Time) (wire.ListVersion, error) {
	body, err := json.Marshal(entries)
	if err != nil {
		return wire.ListVersion{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wire.ListVersion{}, err
	}
	defer tx.Rollback()
	var gen int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(generation), 0) + 1 FROM hotlists WHERE list = ?`, list).Scan(&gen); err != nil {
		return wire.ListVersion{}, err
	}
	at = wire.UTC(at)
	if _, err := tx.ExecContext(ctx, `INSERT INTO hotlists (list, generation, published, published_by, entries, body) VALUES (?,?,?,?,?,?)`,
		list, gen, ms(at), by, len(entries), body); err != nil {
		return wire.ListVersion{}, err
	}
	return wire.ListVersion{List: list, Generation: gen, Published: at, Entries: len(entries)}, tx.Commit()
}

// Manifest implements backoffice.Store.
func (s *DB) Manifest(ctx context.Context) ([]wire.ListVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT list, generation, published, entries FROM hotlists h
		WHERE generation = (SELECT MAX(generation) FROM hotlists WHERE list = h.list) ORDER BY list`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []wire.ListVersion
	for rows.Next() {
		var v wire.ListVersion
		var pub int64
		if err := rows.Scan(&v.List, &v.Generation, &pub, &v.Entries); err != nil {
			return nil, err
		}
		v.Published = fromMS(pub)
		out = append(out, v)
	}
	return out, rows.Err()
}

// HotlistEntries implements backoffice.Store.
func (s *DB) HotlistEntries(ctx context.Context, list string, generation int64) ([]wire.Entry, wire.ListVersion, error) {
	v := wire.ListVersion{List: list}
	var pub int64
	var body []byte
	q := `SELECT generation, published, entries, body FROM hotlists WHERE list = ? AND generation = ?`
	args := []any{list, generation}
	if generation == 0 {
		q = `SELECT generation, published, entries, body FROM hotlists WHERE list = ? ORDER BY generation DESC LIMIT 1`
		args = args[:1]
	}
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&v.Generation, &pub, &v.Entries, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, v, backoffice.ErrNotFound
	} else if err != nil {
		return nil, v, err
	}
	v.Published = fromMS(pub)
	var entries []wire.Entry
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, v, fmt.Errorf("hot list %s generation %d: %w", list, v.Generation, err)
	}
	return entries, v, nil
}

// SearchReads implements backoffice.Store.
func (s *DB) SearchReads(ctx context.Context, q backoffice.ReadQuery) ([]backoffice.ReadRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, car, vrm, captured, camera, confidence, fix, lat, lon, patch IS NOT NULL
		FROM reads WHERE vrm = ? AND captured >= ? AND captured < ? ORDER BY captured DESC LIMIT ?`,
		q.VRM, ms(q.From), ms(q.To), q.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []backoffice.ReadRecord
	for rows.Next() {
		var r backoffice.ReadRecord
		var t int64
		var lat, lon sql.NullFloat64
		if err := rows.Scan(&r.ID, &r.Car, &r.VRM, &t, &r.Camera, &r.Confidence, &r.Fix, &lat, &lon, &r.HasPatch); err != nil {
			return nil, err
		}
		r.Time, r.Lat, r.Lon = fromMS(t), lat.Float64, lon.Float64
		out = append(out, r)
	}
	return out, rows.Err()
}

// AppendAudit implements backoffice.Store.
func (s *DB) AppendAudit(ctx context.Context, e backoffice.AuditEvent) (backoffice.AuditEvent, error) {
	tx, err := s.db.BeginTx(ctx, nil) // immediate: appends are serialised
	if err != nil {
		return e, err
	}
	defer tx.Rollback()
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&e.Seq, &e.Prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e, err
	}
	e.Seq++
	e.Hash = backoffice.ChainHash(e.Prev, e)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (seq, time, actor, action, detail, prev, hash) VALUES (?,?,?,?,?,?,?)`,
		e.Seq, e.Time.Format(time.RFC3339Nano), e.Actor, e.Action, e.Detail, e.Prev, e.Hash); err != nil {
		return e, err
	}
	return e, tx.Commit()
}

// AuditLog implements backoffice.Store.
func (s *DB) AuditLog(ctx context.Context, fn func(backoffice.AuditEvent) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, time, actor, action, detail, prev, hash FROM audit ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e backoffice.AuditEvent
		var t string
		if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Detail, &e.Prev, &e.Hash); err != nil {
			return err
		}
		e.Time, _ = time.Parse(time.RFC3339Nano, t)
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AddUser implements backoffice.Store.
func (s *DB) AddUser(ctx context.Context, u backoffice.User, tokenHash []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (name, role, token_hash, created) VALUES (?,?,?,?)`,
		u.Name, u.Role, tokenHash, ms(u.Created))
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return fmt.Errorf("%w: user %s exists", backoffice.ErrConflict, u.Name)
	}
	return err
}

// UserByToken implements backoffice.Store.
func (s *DB) UserByToken(ctx context.Context, tokenHash []byte) (backoffice.User, error) {
	var u backoffice.User
	var c int64
	err := s.db.QueryRowContext(ctx, `SELECT name, role, created FROM users WHERE token_hash = ?`, tokenHash).Scan(&u.Name, &u.Role, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return u, backoffice.ErrNotFound
	}
	u.Created = fromMS(c)
	return u, err
}

// AddAuthorisation implements backoffice.Store.
func (s *DB) AddAuthorisation(ctx context.Context, a backoffice.Authorisation) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO authorisations (id, case_ref, investigation, reason, granted_by, granted, expires)
		VALUES (?,?,?,?,?,?,?)`, a.ID, a.CaseRef, string(a.Investigation), a.Reason, a.GrantedBy, ms(a.Granted), ms(a.Expires))
	return err
}

// Authorisation implements backoffice.Store.
func (s *DB) Authorisation(ctx context.Context, id string) (backoffice.Authorisation, error) {
	a := backoffice.Authorisation{ID: id}
	var inv string
	var g, e int64
	err := s.db.QueryRowContext(ctx, `SELECT case_ref, investigation, reason, granted_by, granted, expires FROM authorisations WHERE id = ?`, id).
		Scan(&a.CaseRef, &inv, &a.Reason, &a.GrantedBy, &g, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return a, backoffice.ErrNotFound
	}
	a.Investigation, a.Granted, a.Expires = backoffice.Investigation(inv), fromMS(g), fromMS(e)
	return a, err
}

// Stats implements backoffice.Store.
func (s *DB) Stats(ctx context.Context) (backoffice.Stats, error) {
	var st backoffice.Stats
	var oldest, newest sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM reads), (SELECT COUNT(*) FROM hits), (SELECT COUNT(*) FROM decisions),
		(SELECT COUNT(DISTINCT vrm) FROM reads), (SELECT MIN(captured) FROM reads), (SELECT MAX(captured) FROM reads)`).
		Scan(&st.Reads, &st.Hits, &st.Decisions, &st.Vehicles, &oldest, &newest)
	if oldest.Valid {
		st.Oldest, st.Newest = fromMS(oldest.Int64), fromMS(newest.Int64)
	}
	return st, err
}

// DropReadsBefore implements backoffice.Store.
func (s *DB) DropReadsBefore(ctx context.Context, t time.Time) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM overviews WHERE read_id IN (SELECT id FROM reads WHERE captured < ?)`, ms(t)); err != nil {
		return 0, err
	}
	r, err := tx.ExecContext(ctx, `DELETE FROM reads WHERE captured < ?`, ms(t))
	if err != nil {
		return 0, err
	}
	n, _ := r.RowsAffected()
	return n, tx.Commit()
}

// Exec runs a statement directly; tests use it to tamper with the file.
func (s *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := s.db.ExecContext(ctx, query, args...)
	return err
}
