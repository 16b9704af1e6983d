package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ukanpr/anpr/app"
)

// hotlistCols are the columns an entry is written with, in the order
// entryArgs produces them.
const hotlistCols = "list_id, vrm, pattern, priority, covert, expires, added, detail"

// sqlEntryUpsert writes one entry: one per (list, VRM), the newest wins and
// keeps its id.
const sqlEntryUpsert = "INSERT INTO hotlist (" + hotlistCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)" + hotlistUpsert

// importBatchRows is how many entries an import writes per statement. Each
// statement costs SQLite a fixed amount (cursors opened and closed, the
// table's last rowid found again, the pages it changes copied to the
// statement journal) that a few rows per statement share; but
// modernc.org/sqlite matches each positional argument by a linear search, so
// the binding cost grows with the square of the statement's parameters.
const importBatchRows = 8

// importRowParams are the parameters of one row of sqlImportBatch: VRM,
// flags (see importFlags), expires, added, detail.
const importRowParams = 5

// sqlImportBatch writes rows entries into the list with id listID. The list
// id is part of the text and pattern, covert and priority travel packed in
// one integer: the fewer parameters a row binds, the cheaper it is.
func sqlImportBatch(listID int64, rows int) string {
	return "INSERT INTO hotlist (" + hotlistCols + ") SELECT " + strconv.FormatInt(listID, 10) +
		", column1, column2 & 1, column2 >> 2, (column2 >> 1) & 1, column3, column4, column5 FROM (VALUES (?, ?, ?, ?, ?)" +
		strings.Repeat(", (?, ?, ?, ?, ?)", rows-1) + ") WHERE true" + hotlistUpsert
}

// importFlags packs what sqlImportBatch unpacks.
func importFlags(p *pendingEntry) int64 {
	return int64(boolInt(p.pattern)) | int64(boolInt(p.covert))<<1 | int64(p.priority)<<2
}

const hotlistUpsert = ` ON CONFLICT (list_id, vrm) DO UPDATE SET
	pattern = excluded.pattern, priority = excluded.priority, covert = excluded.covert,
	expires = excluded.expires, added = excluded.added, detail = excluded.detail`

// HotlistGeneration returns a number that changes whenever any list changes.
func (db *DB) HotlistGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := db.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'hotlist_generation'").Scan(&g)
	if err != nil {
		return 0, fmt.Errorf("hot-list generation: %w", err)
	}
	return g, nil
}

const entrySelect = `SELECT h.id, l.name, h.vrm, h.priority, h.covert, h.expires, h.added, h.detail
	FROM hotlist h JOIN lists l ON l.id = h.list_id`

func scanEntry(sc interface{ Scan(...any) error }) (app.HotlistEntry, error) {
	var (
		e       app.HotlistEntry
		expires sql.NullInt64
		covert  int
		added   int64
		detail  []byte
	)
	if err := sc.Scan(&e.ID, &e.List, &e.VRM, &e.Priority, &covert, &expires, &added, &detail); err != nil {
		return e, err
	}
	if err := parseDetail(detail, &e); err != nil {
		return e, fmt.Errorf("entry %d: %w", e.ID, err)
	}
	e.Expires = fromNullMS(expires)
	e.Covert = covert != 0
	e.Added = fromMS(added)
	return e, nil
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

// HotlistEntries returns the entries with the given ids, in the order of ids.
// Ids that no longer exist are left out.
func (db *DB) HotlistEntries(ctx context.Context, ids []int64) ([]app.HotlistEntry, error) {
	byID := make(map[int64]app.HotlistEntry, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		q := entrySelect + " WHERE h.id IN (?" + strings.Repeat(",?", len(part)-1) + ")"
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := db.r.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("hot-list entries: %w", err)
		}
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("hot-list entries: %w", err)
			}
			byID[e.ID] = e
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("hot-list entries: %w", err)
		}
	}
	out := make([]app.HotlistEntry, 0, len(byID))
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
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

// entryArgs appends the values of hotlistCols for e.
// The packed detail is appended to buf, and is the last value.
func entryArgs(args []any, listID int64, e app.HotlistEntry, buf []byte) []any {
	return append(args, listID, e.VRM, int64(boolInt(e.IsPattern())), int64(e.Priority),
		int64(boolInt(e.Covert)), msOrNull(e.Expires), ms(e.Added), appendDetail(buf, e))
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

	db     *DB
	ctx    context.Context
	conn   *sql.Conn // the writer's, held from before BEGIN
	tx     *wtx
	insert *sql.Stmt
	// insertBatch writes importBatchRows entries at a time.
	insertBatch *sql.Stmt
	list        string
	listID      int64
	replace     bool
	started     time.Time
	removed     int
	added       int
	args        []any
	done        bool

	// Entries wait in cur, up to importRunRows of them, and are written in
	// VRM order (see write) by a goroutine of their own while the next run
	// fills; spare is the buffer that goroutine gives back.
	cur, spare importRun
	inflight   chan flushed // the run being written, if any
	err        error        // a failed write: the import can only roll back
}

// importRun is a run of entries added but not yet written.
type importRun struct {
	pending []pendingEntry
	detail  []byte // the pending entries' packed details, back to back
}

type flushed struct {
	run importRun
	err error
}

// importRunRows bounds how many entries an import holds before writing them
// (about 100 bytes each). Written sorted by VRM, a run's inserts into the
// (list, VRM) index land next to each other instead of all over it; a new
// list (the highest list id) written in one run appends to the index's last
// page, which SQLite does without searching from the root. A write error
// shows at the Add that fills a run or at Commit, not at the entry's Add.
const importRunRows = 1 << 16

// pendingEntry is an entry added but not yet written.
type pendingEntry struct {
	vrm             string
	seq             uint32 // order of Add: of two entries for one VRM the later wins
	detailOff       uint32
	detailEnd       uint32
	priority        uint8
	pattern, covert bool
	hasExpiry       bool
	expires, added  int64
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
// (list, VRM) and the list's other entries stay.
func (db *DB) BeginImport(ctx context.Context, list string, replace bool) (*Import, error) {
	if list == "" {
		return nil, errors.New("begin hot-list import: no list name")
	}
	// The import holds the writer's connection from before BEGIN until its
	// settings are back, so that no other write runs with them.
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin hot-list import %s: %w", list, err)
	}
	// A multi-row statement keeps a statement journal, and SQLite decides
	// at BEGIN whether it lives in memory or spills to a temporary file
	// (one write system call per page). Foreign keys are off: checking
	// each row's list costs, and the import's one list id comes from the
	// lists row it has just written. Neither can change inside a
	// transaction; restoreWriter puts both back.
	for _, q := range []string{"PRAGMA temp_store = MEMORY", "PRAGMA foreign_keys = OFF"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			db.restoreWriter(conn)
			return nil, fmt.Errorf("begin hot-list import %s: %w", list, err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		db.restoreWriter(conn)
		return nil, fmt.Errorf("begin hot-list import %s: %w", list, err)
	}
	imp := &Import{db: db, ctx: ctx, conn: conn, tx: &wtx{Tx: tx, db: db}, list: list, replace: replace, started: db.Now()}
	if err := imp.begin(); err != nil {
		imp.release()
		return nil, fmt.Errorf("begin hot-list import %s: %w", list, err)
	}
	return imp, nil
}

func (imp *Import) begin() error {
	// A list's (list, VRM) index takes random inserts: it has to stay in the
	// cache, or every insert reads a page back from disk.
	if _, err := imp.tx.ExecContext(imp.ctx, "PRAGMA cache_size = "+strconv.Itoa(importCacheKiB)); err != nil {
		return err
	}
	var err error
	imp.listID, err = ensureList(imp.ctx, imp.tx, imp.list, imp.started)
	if err != nil {
		return err
	}
	if imp.replace {
		// Readers keep their snapshot of the old list until Commit.
		res, err := imp.tx.ExecContext(imp.ctx, "DELETE FROM hotlist WHERE list_id = ?", imp.listID)
		if err != nil {
			return fmt.Errorf("remove old entries: %w", err)
		}
		n, _ := res.RowsAffected()
		imp.removed = int(n)
	}
	imp.insert, err = imp.tx.PrepareContext(imp.ctx, sqlImportBatch(imp.listID, 1))
	if err != nil {
		return err
	}
	imp.insertBatch, err = imp.tx.PrepareContext(imp.ctx, sqlImportBatch(imp.listID, importBatchRows))
	if err != nil {
		return err
	}
	imp.args = make([]any, 0, importRowParams*importBatchRows)
	return nil
}

// Add writes one entry. Its List is ignored (the import's list is used); a
// zero Added becomes the time the import began.
func (imp *Import) Add(e app.HotlistEntry) error {
	if imp.done {
		return fmt.Errorf("hot-list import %s: add after commit or rollback", imp.list)
	}
	if err := validEntry(e); err != nil {
		return fmt.Errorf("hot-list import %s: %w", imp.list, err)
	}
	if e.Added.IsZero() {
		e.Added = imp.started
	}
	r := &imp.cur
	off := len(r.detail)
	r.detail = appendDetail(r.detail, e)
	if len(r.detail) > math.MaxUint32 {
		r.detail = r.detail[:off]
		if err := imp.startWrite(); err != nil {
			return err
		}
		off = 0
		r.detail = appendDetail(r.detail, e)
	}
	p := pendingEntry{
		vrm: e.VRM, seq: uint32(len(r.pending)), detailOff: uint32(off), detailEnd: uint32(len(r.detail)),
		priority: uint8(e.Priority), pattern: e.IsPattern(), covert: e.Covert, added: ms(e.Added),
	}
	if !e.Expires.IsZero() {
		p.hasExpiry, p.expires = true, ms(e.Expires)
	}
	r.pending = append(r.pending, p)
	imp.added++
	if len(r.pending) >= importRunRows {
		return imp.startWrite()
	}
	return nil
}

// startWrite hands the current run to a goroutine that writes it, once the
// run before it is written, and starts a new one. The transaction is used by
// one goroutine at a time: the writing one, or the caller at Commit or
// Rollback after wait.
func (imp *Import) startWrite() error {
	// Sorted here, while the run before is still being written: the
	// writing goroutine is the import's bottleneck.
	imp.cur.sort()
	if err := imp.wait(); err != nil {
		return err
	}
	r := imp.cur
	imp.cur, imp.spare = imp.spare, importRun{}
	ch := make(chan flushed, 1)
	imp.inflight = ch
	go func() {
		err := imp.write(&r)
		ch <- flushed{r, err}
	}()
	return nil
}

// wait waits for the run being written, if any, and returns the first write
// error of the import.
func (imp *Import) wait() error {
	if imp.inflight != nil {
		f := <-imp.inflight
		imp.inflight, imp.spare = nil, f.run
		if imp.err == nil {
			imp.err = f.err
		}
	}
	return imp.err
}

// sort puts a run's entries in the order write writes them.
func (r *importRun) sort() {
	slices.SortFunc(r.pending, func(a, b pendingEntry) int {
		if c := strings.Compare(a.vrm, b.vrm); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
}

// write writes a sorted run's entries in VRM order, the entries for one VRM in
// the order they were added, so that the upsert leaves the last one (with the
// first one's id, as if written one by one). Runs are written in the order
// they were added.
func (imp *Import) write(r *importRun) error {
	for i := 0; i < len(r.pending); {
		stmt, n := imp.insert, 1
		if len(r.pending)-i >= importBatchRows {
			stmt, n = imp.insertBatch, importBatchRows
		}
		imp.args = imp.args[:0]
		for j := i; j < i+n; j++ {
			p := &r.pending[j]
			var expires any
			if p.hasExpiry {
				expires = p.expires
			}
			imp.args = append(imp.args, p.vrm, importFlags(p), expires, p.added, r.detail[p.detailOff:p.detailEnd])
		}
		// The driver copies what it binds.
		if _, err := stmt.ExecContext(imp.ctx, imp.args...); err != nil {
			return fmt.Errorf("hot-list import %s: write entries %s to %s: %w", imp.list, r.pending[i].vrm, r.pending[i+n-1].vrm, err)
		}
		i += n
	}
	clear(r.pending) // let go of the VRM strings
	r.pending, r.detail = r.pending[:0], r.detail[:0]
	return nil
}

// Commit makes the import visible to readers at once, bumps the hot-list
// generation and records an audit event.
func (imp *Import) Commit() (ImportResult, error) {
	if imp.done {
		return ImportResult{}, fmt.Errorf("hot-list import %s: commit after commit or rollback", imp.list)
	}
	imp.done = true
	defer imp.release()
	res, err := imp.commit()
	if err != nil {
		return ImportResult{}, fmt.Errorf("commit hot-list import %s: %w", imp.list, err)
	}
	if err := imp.tx.Commit(); err != nil {
		return ImportResult{}, fmt.Errorf("commit hot-list import %s: %w", imp.list, err)
	}
	return res, nil
}

// release ends the transaction if Commit did not, frees the pending entries
// and puts the writer's settings back (which SQLite only takes outside a
// transaction).
func (imp *Import) release() {
	imp.wait()
	imp.tx.Rollback()
	imp.cur, imp.spare = importRun{}, importRun{}
	imp.db.restoreWriter(imp.conn)
}

func (imp *Import) commit() (ImportResult, error) {
	if err := imp.wait(); err != nil {
		return ImportResult{}, err
	}
	imp.cur.sort()
	if err := imp.write(&imp.cur); err != nil {
		return ImportResult{}, err
	}
	imp.insert.Close()
	imp.insertBatch.Close()
	res := ImportResult{List: imp.list, Added: imp.added, Removed: imp.removed}
	var err error
	if res.Entries, err = rebuildKeys(imp.ctx, imp.tx, imp.listID); err != nil {
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
	imp.wait()
	err := imp.tx.Rollback()
	imp.release()
	if err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("roll back hot-list import %s: %w", imp.list, err)
	}
	return nil
}

// restoreWriter gives back the writer's import-sized page cache, puts back
// the settings an import changes (temp_store, foreign_keys) and returns the
// connection to the pool. Failing to shrink the cache costs memory until the
// next import, so it is logged, not an error of the import; a connection
// whose settings could not be put back is closed rather than reused.
func (db *DB) restoreWriter(conn *sql.Conn) {
	for _, q := range []string{"PRAGMA cache_size = " + strconv.Itoa(cacheKiB), "PRAGMA temp_store = DEFAULT", "PRAGMA foreign_keys = ON"} {
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

// HotlistStats summarises every list at now, ordered by list name.
func (db *DB) HotlistStats(ctx context.Context, now time.Time) ([]ListStats, error) {
	// One sequential pass over the table, grouped in a sorter: going list by
	// list through the (list, VRM) index would fetch every row at random.
	rows, err := db.r.QueryContext(ctx, `SELECT l.name, l.updated, h.priority, coalesce(h.n, 0),
		coalesce(h.patterns, 0), coalesce(h.covert, 0), coalesce(h.expired, 0)
		FROM lists l LEFT JOIN (
			SELECT list_id, priority, count(*) AS n, sum(pattern) AS patterns, sum(covert) AS covert,
				sum(expires IS NOT NULL AND expires <= ?) AS expired
			FROM hotlist NOT INDEXED GROUP BY list_id, priority
		) h ON h.list_id = l.id
		ORDER BY l.name, h.priority`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("hot-list stats: %w", err)
	}
	defer rows.Close()
	var out []ListStats
	for rows.Next() {
		var (
			name                              string
			updated                           int64
			prio                              sql.NullInt64
			n, patterns, covert, expiredCount int
		)
		if err := rows.Scan(&name, &updated, &prio, &n, &patterns, &covert, &expiredCount); err != nil {
			return nil, fmt.Errorf("hot-list stats: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].List != name {
			out = append(out, ListStats{List: name, Updated: fromMS(updated), ByPriority: map[int]int{}})
		}
		s := &out[len(out)-1]
		if prio.Valid {
			s.ByPriority[int(prio.Int64)] += n
		}
		s.Entries += n
		s.Patterns += patterns
		s.Covert += covert
		s.Expired += expiredCount
	}
	if err := rows.Err(); err != nil {
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
	args := entryArgs(nil, listID, e, nil)
	if err := tx.QueryRowContext(ctx, sqlEntryUpsert+" RETURNING id", args...).Scan(&e.ID); err != nil {
		return e, fmt.Errorf("write entry: %w", err)
	}
	if _, err := rebuildKeys(ctx, tx, listID); err != nil {
		return e, err
	}
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
	res, err := tx.ExecContext(ctx, "DELETE FROM hotlist WHERE list_id = ?", id)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, "DELETE FROM lists WHERE id = ?", id); err != nil {
		return err
	}
	if _, err := bumpGeneration(ctx, tx); err != nil {
		return err
	}
	return auditTx(ctx, tx, app.AuditEvent{Time: db.Now(), Actor: "admin", Action: "hotlist.delete",
		Detail: fmt.Sprintf("list=%s entries=%d", list, n)})
}
