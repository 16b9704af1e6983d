package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ukanpr/anpr/app"
)

// HotlistGeneration returns a number that changes whenever any list changes.
func (db *DB) HotlistGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := db.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'hotlist_generation'").Scan(&g)
	if err != nil {
		return 0, fmt.Errorf("hot-list generation: %w", err)
	}
	return g, nil
}

// appendDetail packs the entry fields that no query filters on: each string
// as a uvarint length and its bytes, in a fixed order, the markers last.
// Unlike a separator, a length cannot be confused by what a CSV field holds.
func appendDetail(b []byte, e app.HotlistEntry) []byte {
	for _, s := range [...]string{e.Category, e.Action, e.Information, e.Make, e.Model, e.Colour, e.Reference, e.AddedBy} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, m := range e.Markers {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

var errBadDetail = errors.New("corrupt entry detail")

func parseDetail(b []byte, e *app.HotlistEntry) error {
	next := func() (string, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", errBadDetail
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, nil
	}
	for _, f := range [...]*string{&e.Category, &e.Action, &e.Information, &e.Make, &e.Model, &e.Colour, &e.Reference, &e.AddedBy} {
		var err error
		if *f, err = next(); err != nil {
			return err
		}
	}
	for len(b) > 0 {
		m, err := next()
		if err != nil {
			return err
		}
		e.Markers = append(e.Markers, m)
	}
	return nil
}

// validEntry checks what the store needs of an entry; the CSV importer
// checks the rest (formats, dates) with line numbers.
func validEntry(e app.HotlistEntry) error {
	switch {
	case e.VRM == "":
		return errors.New("entry has no VRM")
	case strings.ContainsAny(e.VRM, " \t\r\n"):
		return fmt.Errorf("entry VRM %q contains white space", e.VRM)
	case e.Priority < 1 || e.Priority > 9:
		return fmt.Errorf("entry %s priority %d is not 1 to 9", e.VRM, e.Priority)
	}
	return nil
}

// ensureList returns the id of the named list, creating it, and marks it
// updated at now.
func ensureList(ctx context.Context, tx *wtx, name string, now time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO lists (name, updated) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET updated = excluded.updated RETURNING id`, name, ms(now)).Scan(&id)
	return id, err
}

func bumpGeneration(ctx context.Context, tx *wtx) (int64, error) {
	var g int64
	err := tx.QueryRowContext(ctx,
		"UPDATE meta SET value = value + 1 WHERE key = 'hotlist_generation' RETURNING value").Scan(&g)
	if err != nil {
		return 0, fmt.Errorf("bump hot-list generation: %w", err)
	}
	return g, nil
}

// Import loads entries into one list inside one write transaction. Nothing is
// visible to readers until Commit; Rollback (or an error) leaves the list as
// it was. While an import is open it holds the store's only writer: other
// writes wait for it. An Import is used by one goroutine.
type Import struct {
	// Actor is recorded in the audit event Commit writes; "admin" when empty.
	Actor string

	db      *DB
	ctx     context.Context
	conn    *sql.Conn // the writer's, held from before BEGIN
	tx      *wtx
	w       *listWriter
	list    string
	replace bool
	started time.Time
	removed int
	detail  []byte // reused for each entry's packed detail
	err     error  // a failed write: the import can only roll back
	done    bool
}

// ImportResult says what an import did.
type ImportResult struct {
	List       string
	Added      int   // entries written (new or updated)
	Removed    int   // entries of the old list removed by a replacing import
	Entries    int   // entries in the list after the import
	Generation int64 // hot-list generation after the import
}

// BeginImport starts an import into list. With replace the list ends up with
// exactly the entries added; without, each entry is inserted or updated by
// (list, VRM) and the list's other entries stay. Of two entries for one VRM
// the one added last wins.
func (db *DB) BeginImport(ctx context.Context, list string, replace bool) (*Import, error) {
	if list == "" {
		return nil, errors.New("begin hot-list import: no list name")
	}
	// The import holds the writer's connection from before BEGIN until its
	// settings are back, so that no other write runs with them. Foreign
	// keys are off: the import's one list id comes from the lists row it
	// has just written. It cannot change inside a transaction;
	// restoreWriter puts it back.
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin hot-list import %s: %w", list, err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		db.restoreWriter(conn)
		return nil, fmt.Errorf("begin hot-list import %s: %w", list, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		db.restoreWriter(conn)
		return nil, fmt.Errorf("begin hot-list import %s: %w", list, err)
	}
	imp := &Import{db: db, ctx: ctx, conn: conn, tx: &wtx{Tx: tx, db: db}, list: list, replace: replace, started: db.Now()}
	listID, err := ensureList(ctx, imp.tx, list, imp.started)
	if err == nil {
		imp.w, imp.removed, err = newListWriter(ctx, tx, listID, replace)
	}
	if err != nil {
		imp.tx.Rollback()
		db.restoreWriter(conn)
		return nil, fmt.Errorf("begin hot-list import %s: %w", list, err)
	}
	return imp, nil
}

// Add writes one entry. Its List is ignored (the import's list is used); a
// zero Added becomes the time the import began.
func (imp *Import) Add(e app.HotlistEntry) error {
	if imp.done {
		return fmt.Errorf("hot-list import %s: add after commit or rollback", imp.list)
	}
	if imp.err != nil {
		return imp.err
	}
	if err := validEntry(e); err != nil {
		return fmt.Errorf("hot-list import %s: %w", imp.list, err)
	}
	if e.Added.IsZero() {
		e.Added = imp.started
	}
	imp.detail = appendDetail(imp.detail[:0], e)
	if err := imp.w.add(entryFlags(e), byte(e.Priority), e.VRM, msOrZero(e.Expires), ms(e.Added), imp.detail); err != nil {
		imp.err = fmt.Errorf("hot-list import %s: %w", imp.list, err)
		return imp.err
	}
	return nil
}

// entryFlags are the packed flags of a new entry.
func entryFlags(e app.HotlistEntry) byte {
	var f byte
	if e.IsPattern() {
		f |= flagPattern
	}
	if e.Covert {
		f |= flagCovert
	}
	if !e.Expires.IsZero() {
		f |= flagExpires
	}
	return f
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// Commit makes the import visible to readers at once, bumps the hot-list
// generation and records an audit event.
func (imp *Import) Commit() (ImportResult, error) {
	if imp.done {
		return ImportResult{}, fmt.Errorf("hot-list import %s: commit after commit or rollback", imp.list)
	}
	imp.done = true
	defer imp.release()
	if imp.err != nil {
		return ImportResult{}, imp.err
	}
	res, err := imp.commit()
	if err != nil {
		return ImportResult{}, fmt.Errorf("commit hot-list import %s: %w", imp.list, err)
	}
	if err := imp.tx.Commit(); err != nil {
		return ImportResult{}, fmt.Errorf("commit hot-list import %s: %w", imp.list, err)
	}
	return res, nil
}

// release ends the transaction if Commit did not and puts the writer's
// settings back (which SQLite only takes outside a transaction).
func (imp *Import) release() {
	imp.tx.Rollback()
	imp.w = nil
	imp.db.restoreWriter(imp.conn)
}

func (imp *Import) commit() (ImportResult, error) {
	res := ImportResult{List: imp.list, Added: imp.w.added, Removed: imp.removed}
	var err error
	if res.Entries, err = imp.w.finish(); err != nil {
		return res, err
	}
	if res.Generation, err = bumpGeneration(imp.ctx, imp.tx); err != nil {
		return res, err
	}
	actor := imp.Actor
	if actor == "" {
		actor = "admin"
	}
	detail := fmt.Sprintf("list=%s added=%d removed=%d entries=%d replace=%t", imp.list, res.Added, res.Removed, res.Entries, imp.replace)
	err = auditTx(imp.ctx, imp.tx, app.AuditEvent{Time: imp.db.Now(), Actor: actor, Action: "hotlist.import", Detail: detail})
	return res, err
}

// Rollback abandons the import; the list stays as it was. It is safe to call
// after Commit, when it does nothing.
func (imp *Import) Rollback() error {
	if imp.done {
		return nil
	}
	imp.done = true
	err := imp.tx.Rollback()
	imp.release()
	if err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("roll back hot-list import %s: %w", imp.list, err)
	}
	return nil
}

// restoreWriter puts back the setting an import changes (foreign_keys) and
// returns the connection to the pool; a connection whose setting could not
// be put back is closed rather than reused.
func (db *DB) restoreWriter(conn *sql.Conn) {
	for _, q := range []string{"PRAGMA foreign_keys = ON"} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			slog.Warn("sqlite: restore writer settings after import", "file", db.path, "sql", q, "err", err)
			// The pool closes a connection that reports itself bad; the
			// next one opens with the usual settings.
			conn.Raw(func(any) error { return driver.ErrBadConn })
			break
		}
	}
	conn.Close()
}

// ListStats summarises one hot list.
type ListStats struct {
	List       string
	Entries    int
	Patterns   int
	Covert     int
	Expired    int         // at the time asked
	ByPriority map[int]int // priority → entries
	Updated    time.Time   // last import or change
}

// HotlistStats summarises every list at now, ordered by list name: one
// pass over the packed entries.
func (db *DB) HotlistStats(ctx context.Context, now time.Time) ([]ListStats, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT id, name, updated FROM lists ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("hot-list stats: %w", err)
	}
	var out []ListStats
	byID := map[int64]int{}
	for rows.Next() {
		var (
			id      int64
			s       ListStats
			updated int64
		)
		if err := rows.Scan(&id, &s.List, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("hot-list stats: %w", err)
		}
		s.Updated, s.ByPriority = fromMS(updated), map[int]int{}
		byID[id] = len(out)
		out = append(out, s)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("hot-list stats: %w", err)
	}
	at := ms(now)
	err = db.scanChunks(ctx, func(listID, _ int64, e *chunkEntry) error {
		i, ok := byID[listID]
		if !ok {
			return nil // a list created since the first query
		}
		s := &out[i]
		s.Entries++
		s.ByPriority[int(e.priority)]++
		if e.flags&flagPattern != 0 {
			s.Patterns++
		}
		if e.flags&flagCovert != 0 {
			s.Covert++
		}
		if e.flags&flagExpires != 0 && e.expires <= at {
			s.Expired++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hot-list stats: %w", err)
	}
	return out, nil
}

// DefaultWantedPriority is the priority of an officer's wanted entry that
// gives none.
const DefaultWantedPriority = 1

// AddWanted stores an entry an officer added in the car into
// app.WantedListName (one per VRM: adding it again updates it), queues it for
// the back office and records an audit event, all in one transaction. The
// entry needs a VRM, AddedBy and an expiry no later than app.MaxWantedTTL
// from now. It returns the entry as stored.
func (db *DB) AddWanted(ctx context.Context, e app.HotlistEntry) (app.HotlistEntry, error) {
	now := db.Now()
	e.List = app.WantedListName
	if e.Priority == 0 {
		e.Priority = DefaultWantedPriority
	}
	if e.Added.IsZero() {
		e.Added = now
	}
	if err := validWanted(e, now); err != nil {
		return app.HotlistEntry{}, fmt.Errorf("add wanted %s: %w", e.VRM, err)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return app.HotlistEntry{}, fmt.Errorf("add wanted %s: %w", e.VRM, err)
	}
	defer tx.Rollback()
	if e, err = addWanted(ctx, tx, e, now); err != nil {
		return app.HotlistEntry{}, fmt.Errorf("add wanted %s: %w", e.VRM, err)
	}
	if err := tx.Commit(); err != nil {
		return app.HotlistEntry{}, fmt.Errorf("add wanted %s: %w", e.VRM, err)
	}
	return e, nil
}

func validWanted(e app.HotlistEntry, now time.Time) error {
	if err := validEntry(e); err != nil {
		return err
	}
	switch {
	case e.AddedBy == "":
		return errors.New("no officer (AddedBy)")
	case e.Expires.IsZero():
		return errors.New("no expiry")
	case !e.Expires.After(now):
		return fmt.Errorf("expiry %s is not in the future", e.Expires.UTC().Format(time.RFC3339))
	case e.Expires.Sub(now) > app.MaxWantedTTL:
		return fmt.Errorf("expiry %s is more than %d days ahead", e.Expires.UTC().Format(time.RFC3339), app.MaxWantedTTL/(24*time.Hour))
	}
	return nil
}

func addWanted(ctx context.Context, tx *wtx, e app.HotlistEntry, now time.Time) (app.HotlistEntry, error) {
	listID, err := ensureList(ctx, tx, e.List, now)
	if err != nil {
		return e, err
	}
	w, _, err := newListWriter(ctx, tx.Tx, listID, false)
	if err != nil {
		return e, err
	}
	if err := w.add(entryFlags(e), byte(e.Priority), e.VRM, msOrZero(e.Expires), ms(e.Added), appendDetail(nil, e)); err != nil {
		return e, err
	}
	if _, err := w.finish(); err != nil {
		return e, err
	}
	e.ID = w.lastID
	payload, err := json.Marshal(e)
	if err != nil {
		return e, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (kind, prio, queued, payload, bytes) VALUES (?, ?, ?, ?, ?)`,
		app.OutboxWanted, outboxPrio[app.OutboxWanted], ms(now), string(payload), len(payload))
	if err != nil {
		return e, fmt.Errorf("queue for back office: %w", err)
	}
	if _, err := bumpGeneration(ctx, tx); err != nil {
		return e, err
	}
	detail := fmt.Sprintf("vrm=%s category=%s expires=%s", e.VRM, e.Category, e.Expires.UTC().Format(time.RFC3339))
	return e, auditTx(ctx, tx, app.AuditEvent{Time: now, Actor: e.AddedBy, Action: "wanted.add", Detail: detail})
}

// DeleteList removes a list and all its entries, bumps the hot-list
// generation and records an audit event. It returns ErrNotFound when there is
// no such list.
func (db *DB) DeleteList(ctx context.Context, list string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("delete hot list %s: %w", list, err)
	}
	defer tx.Rollback()
	if err := db.deleteList(ctx, tx, list); err != nil {
		return fmt.Errorf("delete hot list %s: %w", list, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete hot list %s: %w", list, err)
	}
	return nil
}

func (db *DB) deleteList(ctx context.Context, tx *wtx, list string) error {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM lists WHERE name = ?", list).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(sum(n), 0) FROM hotlist_keys WHERE list_id = ?", id).Scan(&n); err != nil {
		return err
	}
	for _, q := range []string{"DELETE FROM hotlist_chunks WHERE list_id = ?", "DELETE FROM hotlist_keys WHERE list_id = ?", "DELETE FROM lists WHERE id = ?"} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	if _, err := bumpGeneration(ctx, tx); err != nil {
		return err
	}
	return auditTx(ctx, tx, app.AuditEvent{Time: db.Now(), Actor: "admin", Action: "hotlist.delete",
		Detail: fmt.Sprintf("list=%s entries=%d", list, n)})
}
