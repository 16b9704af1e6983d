package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned when a read, hit or list does not exist.
var ErrNotFound = errors.New("not found")

// ErrNotDatabase is returned by Open when the file is not an ANPR car database.
var ErrNotDatabase = errors.New("not an ANPR car database")

// ErrSchemaTooNew is returned by Open when the file was written by a newer
// program whose schema this one does not know.
var ErrSchemaTooNew = errors.New("database schema is newer than this program")

// applicationID marks the file as ours ('ANPR'); migration 1 sets it.
const applicationID = 0x414E5052

// busyTimeout bounds how long a write waits for another process's write
// transaction (an admin's import run from the command line) to finish.
const busyTimeout = 30 * time.Second

// Page cache per connection, in SQLite's negative-means-KiB form.
const cacheKiB = -32 << 10

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the car's store. It is safe for concurrent use.
type DB struct {
	path string
	w    *sql.DB // one connection: the single writer
	r    *sql.DB // read-only connections

	// stmts are the writer's hot statements, prepared on its connection
	// once; wtx uses them instead of parsing the SQL in every transaction.
	stmts map[string]*sql.Stmt

	ck *checkpointer

	// Now returns the current time; tests may replace it before use.
	Now func() time.Time
}

// Open opens the store at path, creating it if it does not exist, and brings
// its schema up to date.
func Open(path string) (*DB, error) {
	db := &DB{path: path, Now: time.Now}
	var err error
	db.w, err = sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	if err := db.migrate(context.Background()); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("open %s: %w", path, classify(err))
	}
	if err := db.prepare(context.Background()); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.r, err = sql.Open("sqlite", dsn(path, true))
	if err != nil {
		db.w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.r.SetMaxOpenConns(4)
	db.r.SetMaxIdleConns(4)
	if err := db.r.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, classify(err))
	}
	if db.ck, err = startCheckpointer(path); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: checkpointer: %w", path, err)
	}
	return db, nil
}

// dsn builds the modernc.org/sqlite data source name. Pragmas run on every
// new connection.
func dsn(p string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "cache_size("+strconv.Itoa(cacheKiB)+")")
	// 16 KiB pages: a read's ~60 KB of images spans 4 pages rather than 15,
	// and each page is a WAL frame written with its own system calls. Only
	// takes effect when the file is created, before WAL is switched on.
	q.Add("_pragma", "page_size(16384)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		q.Set("_txlock", "deferred")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
		q.Add("_pragma", "journal_size_limit(67108864)")
		// The checkpointer keeps the WAL short; this is only the safety net
		// should it fall behind (pages: 256 MiB).
		q.Add("_pragma", "wal_autocheckpoint(16384)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// classify turns SQLite's "file is not a database" into ErrNotDatabase.
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_NOTADB) {
		return fmt.Errorf("%w: %w", ErrNotDatabase, err)
	}
	return err
}

// Close closes the store. Pending transactions are rolled back.
func (db *DB) Close() error {
	var errs []error
	if db.ck != nil {
		errs = append(errs, db.ck.stop())
	}
	for _, st := range db.stmts {
		errs = append(errs, st.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close %s: %w", db.path, err)
	}
	return nil
}

// prepare prepares the writer's hot statements. It runs when no transaction
// holds the single writer connection: preparing on the pool from inside a
// write transaction would wait for that very connection.
func (db *DB) prepare(ctx context.Context) error {
	db.stmts = map[string]*sql.Stmt{}
	for _, q := range []string{sqlReadInsert, sqlImagesInsert, sqlOutboxInsert, sqlUnack, sqlHitInsert,
		sqlHitMatchesDelete, sqlHitMatchInsert, sqlReadHasHit, sqlAuditLast, sqlAuditInsert} {
		st, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		db.stmts[q] = st
	}
	return nil
}

// wtx is a write transaction. Statements prepared by DB.prepare run
// prepared; any other SQL is parsed as usual.
type wtx struct {
	*sql.Tx
	db *DB
}

// begin starts a write transaction (BEGIN IMMEDIATE: it takes the write lock
// at once, or waits for it).
func (db *DB) begin(ctx context.Context) (*wtx, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &wtx{Tx: tx, db: db}, nil
}

// Commit commits the transaction and lets the checkpointer know.
func (t *wtx) Commit() error {
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	if t.db.ck != nil {
		t.db.ck.notify()
	}
	return nil
}

// ExecContext runs q, prepared when it is one of the hot statements.
func (t *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st, ok := t.db.stmts[q]; ok {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

// QueryRowContext runs q, prepared when it is one of the hot statements.
func (t *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st, ok := t.db.stmts[q]; ok {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// Path returns the file the store was opened from.
func (db *DB) Path() string { return db.path }

// IntegrityCheck runs PRAGMA integrity_check and returns an error listing what
// it found unless the answer is "ok".
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.r.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check %s: %w", db.path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("integrity check %s: %w", db.path, err)
		}
		msgs = append(msgs, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check %s: %w", db.path, err)
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return fmt.Errorf("integrity check %s: %s", db.path, strings.Join(msgs, "; "))
}

// migrationHooks are the steps of a migration that SQL cannot do, run
// after its script in the same transaction.
var migrationHooks = map[int]func(ctx context.Context, tx *sql.Tx) error{
	2: migrateHotlistChunks,
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their file names start
// with a version number; versions must run 1, 2, 3… without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name does not start with a version number", base)
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this program writes.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate applies the pending migrations in one transaction, so a file is
// either at its old version or fully at the new one.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := migrateTx(ctx, tx, ms); err != nil {
		return err
	}
	return tx.Commit()
}

func migrateTx(ctx context.Context, tx *sql.Tx, ms []migration) error {
	var version, appID, objects int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects); err != nil {
		return err
	}
	switch {
	case appID != applicationID && (version != 0 || objects != 0):
		return fmt.Errorf("%w: a SQLite database of another application (application_id %d, %d objects)", ErrNotDatabase, appID, objects)
	case version > len(ms):
		return fmt.Errorf("%w: schema version %d, this program knows up to %d", ErrSchemaTooNew, version, len(ms))
	}
	for _, m := range ms[version:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if hook := migrationHooks[m.version]; hook != nil {
			if err := hook(ctx, tx); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		// PRAGMA takes no parameters; the version is an int we formatted.
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.version)); err != nil {
			return fmt.Errorf("migration %s: set version: %w", m.name, err)
		}
	}
	return nil
}

// Time helpers: the schema stores integer milliseconds since the epoch, UTC.

func ms(t time.Time) int64 { return t.UnixMilli() }

func msOrNull(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
