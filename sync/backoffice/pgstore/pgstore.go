// Package pgstore keeps the back office in PostgreSQL through pgx: the store
// for a force. It implements backoffice.Store.
//
// Reads are range-partitioned by capture day (reads_pYYYYMMDD), so retention
// drops whole partitions instead of deleting rows. Every primary key starts
// with the column a distributed engine would shard on: reads and hits by VRM
// (so one vehicle's reads and hits live together and a search by VRM touches
// one shard), decisions and overviews by read id. Uniqueness of a read is on
// (vrm, captured, id): a read's VRM and capture time never change, so a
// re-delivered read collides on that key and ON CONFLICT DO NOTHING makes
// ingest idempotent without a global index on id. Key text columns use the
// "C" collation: VRMs and ids are ASCII, and byte comparison keeps index
// inserts and lookups cheap whatever the database's locale. See
// docs/backoffice.md.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/wire"
)

// DB is a back-office store in PostgreSQL.
type DB struct {
	pool *pool

	mu    sync.Mutex      // guards parts; held while partitions are created
	parts map[string]bool // day partitions known to exist
}

var _ backoffice.Store = (*DB)(nil)

// Options tune Open.
type Options struct {
	// Schema, when set, is created if missing and used as the search path:
	// tests give each run its own.
	Schema string
	// Conns is the most connections held (default 8).
	Conns int
}

// Open connects to the database at dsn (postgres://…) and applies the
// migrations.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse PostgreSQL DSN: %w", err)
	}
	if opt.Schema != "" {
		if !regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`).MatchString(opt.Schema) {
			return nil, fmt.Errorf("schema name %q", opt.Schema)
		}
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		_, err = c.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+opt.Schema)
		c.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("create schema %s: %w", opt.Schema, err)
		}
		cfg.RuntimeParams["search_path"] = opt.Schema
	}
	if opt.Conns <= 0 {
		opt.Conns = 8
	}
	s := &DB{pool: newPool(cfg, opt.Conns), parts: map[string]bool{}}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes every connection.
func (s *DB) Close() error { s.pool.close(); return nil }

const schema = `
CREATE TABLE IF NOT EXISTS reads (
	vrm text COLLATE "C" NOT NULL, captured timestamptz NOT NULL, id text COLLATE "C" NOT NULL, car text NOT NULL, raw text NOT NULL,
	confidence real NOT NULL, camera text NOT NULL, fix text NOT NULL, lat double precision, lon double precision,
	fix_age_ms bigint, estimated boolean NOT NULL, speed_mps real, heading_deg real, hdop real, sats integer, alt_m real,
	clock_source text NOT NULL, clock_offset_ms bigint NOT NULL, clock_suspect boolean NOT NULL, format text NOT NULL,
	pass_id text NOT NULL, candidates jsonb, char_conf jsonb, patch bytea, received timestamptz NOT NULL,
	PRIMARY KEY (vrm, captured, id)
) PARTITION BY RANGE (captured);
CREATE TABLE IF NOT EXISTS overviews (read_id text COLLATE "C" PRIMARY KEY, car text NOT NULL, jpeg bytea NOT NULL, received timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS overviews_received ON overviews (received);
CREATE TABLE IF NOT EXISTS hits (vrm text COLLATE "C" NOT NULL, read_id text COLLATE "C" NOT NULL, hit_time timestamptz NOT NULL, car text NOT NULL,
	past boolean NOT NULL, matches jsonb NOT NULL, received timestamptz NOT NULL, PRIMARY KEY (vrm, read_id, hit_time));
CREATE TABLE IF NOT EXISTS decisions (read_id text COLLATE "C" NOT NULL, decided timestamptz NOT NULL, officer text NOT NULL,
	outcome text NOT NULL, reason text NOT NULL, car text NOT NULL, received timestamptz NOT NULL, PRIMARY KEY (read_id, decided, officer));
CREATE TABLE IF NOT EXISTS wanted (vrm text COLLATE "C" NOT NULL, car text NOT NULL, added timestamptz NOT NULL, entry jsonb NOT NULL,
	received timestamptz NOT NULL, PRIMARY KEY (vrm, car, added));
CREATE TABLE IF NOT EXISTS hotlists (list text NOT NULL, generation bigint NOT NULL, published timestamptz NOT NULL,
	published_by text NOT NULL, entries integer NOT NULL, body bytea NOT NULL, PRIMARY KEY (list, generation));
CREATE TABLE IF NOT EXISTS users (name text PRIMARY KEY, role text NOT NULL, token_hash bytea NOT NULL UNIQUE, created timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS authorisations (id text PRIMARY KEY, case_ref text NOT NULL, investigation text NOT NULL,
	reason text NOT NULL, granted_by text NOT NULL, granted timestamptz NOT NULL, expires timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS audit (seq bigint PRIMARY KEY, time timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL,
	detail text NOT NULL, prev text NOT NULL, hash text NOT NULL);
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
	$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
DROP TRIGGER IF EXISTS audit_append_only ON audit;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
`

// lock keys for pg_advisory_xact_lock.
const (
	lockMigrate = 0x616e707201
	lockAudit   = 0x616e707202
	lockParts   = 0x616e707203
)

func (s *DB) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockMigrate)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, schema); err != nil {
			return fmt.Errorf("apply schema: %w", err)
		}
		return nil
	})
}

// tx runs fn in a transaction on one pooled connection.
func (s *DB) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	c, err := s.pool.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.pool.release(c)
	return pgx.BeginFunc(ctx, c, fn)
}

// dayOf is the partition day of t.
func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func partName(day time.Time) string { return "reads_p" + day.Format("20060102") }

// ensurePartitions creates the day partitions reads at times ts need.
func (s *DB) ensurePartitions(ctx context.Context, ts []time.Time) error {
	var need []time.Time
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, t := range ts {
		d := dayOf(t)
		if n := partName(d); !s.parts[n] && !seen[n] {
			seen[n] = true
			need = append(need, d)
		}
	}
	if len(need) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockParts)); err != nil {
			return err
		}
		for _, d := range need {
			q := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF reads FOR VALUES FROM ('%s') TO ('%s')`,
				partName(d), d.Format(time.RFC3339), d.AddDate(0, 0, 1).Format(time.RFC3339))
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("create partition %s: %w", partName(d), err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range need { // marked only once committed
		s.parts[partName(d)] = true
	}
	return nil
}

func jsonOrNil(v any, n int) *string {
	if n == 0 {
		return nil
	}
	b, _ := json.Marshal(v)
	s := string(b)
	return &s
}

// readColumns are the reads columns in COPY order.
var readColumns = []string{"vrm", "captured", "id", "car", "raw", "confidence", "camera", "fix", "lat", "lon", "fix_age_ms",
	"estimated", "speed_mps", "heading_deg", "hdop", "sats", "alt_m", "clock_source", "clock_offset_ms", "clock_suspect", "format",
	"pass_id", "candidates", "char_conf", "patch", "received"}

// stagingTable is the per-connection temporary table a batch's reads are
// copied into before one INSERT … SELECT … ON CONFLICT DO NOTHING moves the
// new ones into reads. It is emptied at every commit (and a rollback takes
// its rows with it), so it never carries rows from one batch to the next.
var stagingTable = pgx.Identifier{"pg_temp", "reads_in"}

var insertStaged = "INSERT INTO reads (" + strings.Join(readColumns, ", ") + ") SELECT " + strings.Join(readColumns, ", ") +
	" FROM " + stagingTable.Sanitize() + " ON CONFLICT DO NOTHING"

// readRows feeds a batch's reads to CopyFrom, one reused row at a time (pgx
// encodes each row before asking for the next).
type readRows struct {
	reads    []*wire.Read
	car      string
	received time.Time
	i        int
	row      []any
}

func (r *readRows) Next() bool { r.i++; return r.i <= len(r.reads) }
func (r *readRows) Err() error { return nil }

func (r *readRows) Values() ([]any, error) {
	rd := r.reads[r.i-1]
	p := &rd.Position
	var heading, alt *float32
	if p.HeadingDeg != nil {
		v := float32(*p.HeadingDeg)
		heading = &v
	}
	if p.AltM != nil {
		v := float32(*p.AltM)
		alt = &v
	}
	if r.row == nil {
		r.row = make([]any, len(readColumns))
	}
	row := r.row
	row[0], row[1], row[2], row[3], row[4] = rd.VRM, rd.Time, rd.ID, r.car, rd.Raw
	row[5], row[6], row[7], row[8], row[9] = float32(rd.Confidence), rd.Camera, p.Fix, p.Lat, p.Lon
	row[10], row[11], row[12], row[13], row[14] = p.AgeMS, p.Estimated, float32(p.SpeedMPS), heading, float32(p.HDOP)
	row[15], row[16], row[17], row[18], row[19] = int32(p.Sats), alt, rd.ClockSource, rd.ClockOffsetMS, rd.ClockSuspect
	row[20], row[21], row[22], row[23] = rd.Format, rd.PassID, jsonOrNil(rd.Candidates, len(rd.Candidates)), jsonOrNil(rd.CharConfidences, len(rd.CharConfidences))
	row[24], row[25] = rd.Patch, r.received
	return row, nil
}

// staged remembers which pooled connections hold the staging table.
var staged sync.Map // *pgx.Conn → true

func forgetConn(c *pgx.Conn) { staged.Delete(c) }

// Ingest implements backoffice.Store. A batch's reads go in with one binary
// COPY: straight into reads when none of them is stored yet (the unique key
// on (vrm, captured, id) refuses the COPY otherwise), else into a
// per-connection temporary staging table and from there with one
// INSERT … SELECT … ON CONFLICT DO NOTHING. The other kinds are pipelined in
// the same transaction.
func (s *DB) Ingest(ctx context.Context, car string, items []wire.Item, received time.Time) (backoffice.Ingested, error) {
	var res backoffice.Ingested
	var times []time.Time
	var reads []*wire.Read
	for _, it := range items {
		if it.Read != nil {
			times = append(times, it.Read.Time)
		}
	}
	if err := s.ensurePartitions(ctx, times); err != nil {
		return res, err
	}
	b := &pgx.Batch{}
	for i, it := range items {
		switch it.Kind {
		case wire.KindRead:
			reads = append(reads, it.Read)
		case wire.KindOverview:
			b.Queue(`INSERT INTO overviews (read_id, car, jpeg, received) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`,
				it.Overview.ReadID, car, it.Overview.JPEG, received)
		case wire.KindHit:
			h := it.Hit
			m, _ := json.Marshal(h.Matches)
			b.Queue(`INSERT INTO hits (vrm, read_id, hit_time, car, past, matches, received) VALUES ($1,$2,$3,$4,$5,$6::text::jsonb,$7)
				ON CONFLICT DO NOTHING`, h.VRM, h.ReadID, h.Time, car, h.Past, string(m), received)
		case wire.KindDecision:
			d := it.Decision
			b.Queue(`INSERT INTO decisions (read_id, decided, officer, outcome, reason, car, received) VALUES ($1,$2,$3,$4,$5,$6,$7)
				ON CONFLICT DO NOTHING`, d.ReadID, d.Time, d.Officer, d.Outcome, d.Reason, car, received)
		case wire.KindWanted:
			e := it.Wanted
			var added time.Time
			if e.Added != nil {
				added = *e.Added
			}
			body, _ := json.Marshal(e)
			b.Queue(`INSERT INTO wanted (vrm, car, added, entry, received) VALUES ($1,$2,$3,$4::text::jsonb,$5) ON CONFLICT DO NOTHING`,
				e.VRM, car, added, string(body), received)
		default:
			return res, fmt.Errorf("%w: item %d kind %q", backoffice.ErrInvalid, i, it.Kind)
		}
	}
	c, err := s.pool.acquire(ctx)
	if err != nil {
		return res, err
	}
	defer s.pool.release(c)
	if len(reads) == 0 {
		return s.ingestTx(ctx, c, car, reads, b, received, false)
	}
	// A batch is nearly always new: copy its reads straight into reads
	// unless its first or last read is already stored (a re-delivery after a
	// lost acknowledgement). Should any read turn out to be stored after all,
	// the unique key refuses the COPY, the transaction rolls back whole, and
	// the batch goes again through the staging table with ON CONFLICT DO
	// NOTHING.
	var seen bool
	r0, r1 := reads[0], reads[len(reads)-1]
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reads WHERE vrm = $1 AND captured = $2 AND id = $3)
		OR EXISTS (SELECT 1 FROM reads WHERE vrm = $4 AND captured = $5 AND id = $6)`,
		r0.VRM, r0.Time, r0.ID, r1.VRM, r1.Time, r1.ID).Scan(&seen); err != nil {
		return res, fmt.Errorf("look up reads: %w", err)
	}
	if !seen {
		res, err = s.ingestTx(ctx, c, car, reads, b, received, false)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "23505" && pe.Code != "40P01") { // unique_violation, deadlock_detected
			return res, err
		}
	}
	if _, ok := staged.Load(c); !ok {
		_, err := c.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS `+stagingTable.Sanitize()+` (LIKE reads) ON COMMIT DELETE ROWS`)
		if err != nil {
			return res, fmt.Errorf("create staging table: %w", err)
		}
		staged.Store(c, true)
	}
	return s.ingestTx(ctx, c, car, reads, b, received, true)
}

// ingestTx stores one batch in one transaction on c: the reads copied
// through the staging table (staged) or straight into reads, then the
// pipelined inserts of the other kinds.
func (s *DB) ingestTx(ctx context.Context, c *pgx.Conn, car string, reads []*wire.Read, b *pgx.Batch, received time.Time, staged bool) (backoffice.Ingested, error) {
	var res backoffice.Ingested
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if len(reads) > 0 && !staged {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"reads"}, readColumns, &readRows{reads: reads, car: car, received: received})
			if err != nil {
				return fmt.Errorf("copy reads: %w", err)
			}
			res.Stored += int(n)
		}
		if len(reads) > 0 && staged {
			if _, err := tx.CopyFrom(ctx, stagingTable, readColumns, &readRows{reads: reads, car: car, received: received}); err != nil {
				return fmt.Errorf("copy reads: %w", err)
			}
			tag, err := tx.Exec(ctx, insertStaged)
			if err != nil {
				return fmt.Errorf("insert reads: %w", err)
			}
			res.Stored += int(tag.RowsAffected())
			res.Duplicates += len(reads) - int(tag.RowsAffected())
		}
		if b.Len() == 0 {
			return nil
		}
		br := tx.SendBatch(ctx, b)
		for i := 0; i < b.Len(); i++ {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return err
			}
			if tag.RowsAffected() > 0 {
				res.Stored++
			} else {
				res.Duplicates++
			}
		}
		return br.Close()
	})
	return res, err
}

// PublishHotlist implements backoffice.Store.
func (s *DB) PublishHotlist(ctx context.Context, list string, entries []wire.Entry, by string, at time.Time) (wire.ListVersion, error) {
	body, err := json.Marshal(entries)
	if err != nil {
		return wire.ListVersion{}, err
	}
	at = wire.UTC(at)
	v := wire.ListVersion{List: list, Published: at, Entries: len(entries)}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE hotlists IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(generation), 0) + 1 FROM hotlists WHERE list = $1`, list).Scan(&v.Generation); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO hotlists (list, generation, published, published_by, entries, body) VALUES ($1,$2,$3,$4,$5,$6)`,
			list, v.Generation, at, by, len(entries), body)
		return err
	})
	return v, err
}

// Manifest implements backoffice.Store.
func (s *DB) Manifest(ctx context.Context) ([]wire.ListVersion, error) {
	var out []wire.ListVersion
	err := s.query(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT DISTINCT ON (list) list, generation, published, entries FROM hotlists ORDER BY list, generation DESC`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v wire.ListVersion
			if err := rows.Scan(&v.List, &v.Generation, &v.Published, &v.Entries); err != nil {
				return err
			}
			v.Published = v.Published.UTC()
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// HotlistEntries implements backoffice.Store.
func (s *DB) HotlistEntries(ctx context.Context, list string, generation int64) ([]wire.Entry, wire.ListVersion, error) {
	v := wire.ListVersion{List: list}
	var body []byte
	err := s.query(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT generation, published, entries, body FROM hotlists
			WHERE list = $1 AND ($2 = 0 OR generation = $2) ORDER BY generation DESC LIMIT 1`, list, generation).
			Scan(&v.Generation, &v.Published, &v.Entries, &body)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, v, backoffice.ErrNotFound
	} else if err != nil {
		return nil, v, err
	}
	v.Published = v.Published.UTC()
	var entries []wire.Entry
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, v, fmt.Errorf("hot list %s generation %d: %w", list, v.Generation, err)
	}
	return entries, v, nil
}

// query runs fn on one pooled connection.
func (s *DB) query(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := s.pool.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.pool.release(c)
	return fn(c)
}

// SearchReads implements backoffice.Store.
func (s *DB) SearchReads(ctx context.Context, q backoffice.ReadQuery) ([]backoffice.ReadRecord, error) {
	var out []backoffice.ReadRecord
	err := s.query(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT id, car, vrm, captured, camera, confidence, fix, COALESCE(lat, 0), COALESCE(lon, 0), patch IS NOT NULL
			FROM reads WHERE vrm = $1 AND captured >= $2 AND captured < $3 ORDER BY captured DESC LIMIT $4`, q.VRM, q.From, q.To, q.Limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r backoffice.ReadRecord
			var conf float32
			if err := rows.Scan(&r.ID, &r.Car, &r.VRM, &r.Time, &r.Camera, &conf, &r.Fix, &r.Lat, &r.Lon, &r.HasPatch); err != nil {
				return err
			}
			r.Confidence, r.Time = float64(conf), r.Time.UTC()
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// AppendAudit implements backoffice.Store.
func (s *DB) AppendAudit(ctx context.Context, e backoffice.AuditEvent) (backoffice.AuditEvent, error) {
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockAudit)); err != nil {
			return err
		}
		e.Seq, e.Prev = 0, ""
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&e.Seq, &e.Prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		e.Seq++
		e.Hash = backoffice.ChainHash(e.Prev, e)
		_, err = tx.Exec(ctx, `INSERT INTO audit (seq, time, actor, action, detail, prev, hash) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			e.Seq, e.Time, e.Actor, e.Action, e.Detail, e.Prev, e.Hash)
		return err
	})
	return e, err
}

// AuditLog implements backoffice.Store.
func (s *DB) AuditLog(ctx context.Context, fn func(backoffice.AuditEvent) error) error {
	return s.query(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT seq, time, actor, action, detail, prev, hash FROM audit ORDER BY seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e backoffice.AuditEvent
			if err := rows.Scan(&e.Seq, &e.Time, &e.Actor, &e.Action, &e.Detail, &e.Prev, &e.Hash); err != nil {
				return err
			}
			e.Time = e.Time.UTC()
			if err := fn(e); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// AddUser implements backoffice.Store.
func (s *DB) AddUser(ctx context.Context, u backoffice.User, tokenHash []byte) error {
	err := s.query(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO users (name, role, token_hash, created) VALUES ($1,$2,$3,$4)`, u.Name, u.Role, tokenHash, u.Created)
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: user %s exists", backoffice.ErrConflict, u.Name)
	}
	return err
}

// UserByToken implements backoffice.Store.
func (s *DB) UserByToken(ctx context.Context, tokenHash []byte) (backoffice.User, error) {
	var u backoffice.User
	err := s.query(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT name, role, created FROM users WHERE token_hash = $1`, tokenHash).Scan(&u.Name, &u.Role, &u.Created)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return u, backoffice.ErrNotFound
	}
	return u, err
}

// AddAuthorisation implements backoffice.Store.
func (s *DB) AddAuthorisation(ctx context.Context, a backoffice.Authorisation) error {
	return s.query(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO authorisations (id, case_ref, investigation, reason, granted_by, granted, expires)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, a.ID, a.CaseRef, string(a.Investigation), a.Reason, a.GrantedBy, a.Granted, a.Expires)
		return err
	})
}

// Authorisation implements backoffice.Store.
func (s *DB) Authorisation(ctx context.Context, id string) (backoffice.Authorisation, error) {
	a := backoffice.Authorisation{ID: id}
	var inv string
	err := s.query(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT case_ref, investigation, reason, granted_by, granted, expires FROM authorisations WHERE id = $1`, id).
			Scan(&a.CaseRef, &inv, &a.Reason, &a.GrantedBy, &a.Granted, &a.Expires)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return a, backoffice.ErrNotFound
	}
	a.Investigation = backoffice.Investigation(inv)
	return a, err
}

// Stats implements backoffice.Store.
func (s *DB) Stats(ctx context.Context) (backoffice.Stats, error) {
	var st backoffice.Stats
	var oldest, newest *time.Time
	err := s.query(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM reads), (SELECT COUNT(*) FROM hits), (SELECT COUNT(*) FROM decisions),
			(SELECT COUNT(DISTINCT vrm) FROM reads), (SELECT MIN(captured) FROM reads), (SELECT MAX(captured) FROM reads)`).
			Scan(&st.Reads, &st.Hits, &st.Decisions, &st.Vehicles, &oldest, &newest)
	})
	if oldest != nil {
		st.Oldest, st.Newest = oldest.UTC(), newest.UTC()
	}
	return st, err
}

// DropReadsBefore implements backoffice.Store: it drops every day partition
// that ends at or before t (whole days only) and the overviews received
// before t, and returns the number of reads dropped.
func (s *DB) DropReadsBefore(ctx context.Context, t time.Time) (int64, error) {
	var parts []string
	err := s.query(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'reads'::regclass`)
		if err != nil {
			return err
		}
		parts, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return 0, err
	}
	sort.Strings(parts)
	cut := dayOf(t)
	var n int64
	for _, p := range parts {
		day, err := time.Parse("20060102", strings.TrimPrefix(p, "reads_p"))
		if err != nil || day.AddDate(0, 0, 1).After(cut) {
			continue
		}
		err = s.tx(ctx, func(tx pgx.Tx) error {
			var rows int64
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+p).Scan(&rows); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DROP TABLE `+p); err != nil {
				return err
			}
			n += rows
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("drop partition %s: %w", p, err)
		}
		s.mu.Lock()
		delete(s.parts, p)
		s.mu.Unlock()
	}
	err = s.query(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `DELETE FROM overviews WHERE received < $1`, t)
		return err
	})
	return n, err
}

// Exec runs a statement directly; tests use it to tamper with the database.
func (s *DB) Exec(ctx context.Context, query string, args ...any) error {
	return s.query(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, query, args...)
		return err
	})
}

// DropSchema drops a schema and everything in it; tests clean up with it.
func (s *DB) DropSchema(ctx context.Context, schema string) error {
	return s.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
}
