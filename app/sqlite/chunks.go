package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"

	"github.com/ukanpr/anpr/app"
)

// Hot-list entries are stored packed, not a row each: a hotlist_chunks row
// holds up to chunkEntries entries of one list back to back. Ten million
// entries are 160,000 rows instead of ten million rows plus ten million
// index entries, which is what made an import cost seconds per 100,000
// entries: SQLite's B-tree work and the per-row binding, not the data.
//
// An entry's id is its chunk's id and its slot in the chunk: chunk<<6|slot.
// Ids stay below 2^32 until 67 million chunks have been written (the
// matching index then holds them in 32 bits). An entry that a later one
// with the same VRM replaced stays in its chunk marked dead, and its id
// leaves the list's packed keys (see keys.go).
const (
	chunkBits    = 6
	chunkEntries = 1 << chunkBits
)

// Entry flags, the first byte of a packed entry.
const (
	flagDead    = 1 << iota // replaced by a later entry for the same VRM
	flagPattern             // the VRM is a wildcard pattern
	flagCovert
	flagExpires // an expiry time follows the VRM
)

func entryID(chunk int64, slot int) int64 { return chunk<<chunkBits | int64(slot) }

func splitEntryID(id int64) (chunk int64, slot int) {
	return id >> chunkBits, int(id & (chunkEntries - 1))
}

// chunkEntry is one packed entry as decoded; its byte slices share the
// chunk's memory.
type chunkEntry struct {
	flags, priority byte
	vrm             []byte
	expires, added  int64
	detail          []byte
}

// appendEntry packs one entry: flags, priority, the VRM (uvarint length and
// bytes), the expiry if any and the time added (varint ms), the detail
// (uvarint length and bytes; see appendDetail).
func appendEntry(b []byte, flags, priority byte, vrm string, expires, added int64, detail []byte) []byte {
	b = append(b, flags, priority)
	b = binary.AppendUvarint(b, uint64(len(vrm)))
	b = append(b, vrm...)
	if flags&flagExpires != 0 {
		b = binary.AppendVarint(b, expires)
	}
	b = binary.AppendVarint(b, added)
	b = binary.AppendUvarint(b, uint64(len(detail)))
	return append(b, detail...)
}

var errBadChunk = errors.New("corrupt packed entries")

// nextEntry decodes the entry at the start of b into e and returns what
// follows it.
func nextEntry(b []byte, e *chunkEntry) ([]byte, error) {
	if len(b) < 2 {
		return nil, errBadChunk
	}
	e.flags, e.priority, b = b[0], b[1], b[2:]
	bytesField := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errBadChunk
		}
		f := b[k : k+int(n)]
		b = b[k+int(n):]
		return f, nil
	}
	varint := func() (int64, error) {
		v, k := binary.Varint(b)
		if k <= 0 {
			return 0, errBadChunk
		}
		b = b[k:]
		return v, nil
	}
	var err error
	if e.vrm, err = bytesField(); err != nil {
		return nil, err
	}
	e.expires = 0
	if e.flags&flagExpires != 0 {
		if e.expires, err = varint(); err != nil {
			return nil, err
		}
	}
	if e.added, err = varint(); err != nil {
		return nil, err
	}
	if e.detail, err = bytesField(); err != nil {
		return nil, err
	}
	return b, nil
}

// eachEntry calls fn with each entry packed in b and its slot.
func eachEntry(b []byte, fn func(slot int, e *chunkEntry) error) error {
	var e chunkEntry
	for slot := 0; len(b) > 0; slot++ {
		rest, err := nextEntry(b, &e)
		if err != nil {
			return err
		}
		if slot >= chunkEntries {
			return errBadChunk
		}
		if err := fn(slot, &e); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// hotlistEntry turns a packed entry into the domain type.
func (e *chunkEntry) hotlistEntry(id int64, list string) (app.HotlistEntry, error) {
	h := app.HotlistEntry{ID: id, List: list, VRM: string(e.vrm), Priority: int(e.priority),
		Covert: e.flags&flagCovert != 0, Added: fromMS(e.added)}
	if e.flags&flagExpires != 0 {
		h.Expires = fromMS(e.expires)
	}
	if err := parseDetail(e.detail, &h); err != nil {
		return h, fmt.Errorf("entry %d: %w", id, err)
	}
	return h, nil
}

// HotlistEntries returns the entries with the given ids, in the order of ids.
// Ids that no longer exist (or were replaced) are left out.
func (db *DB) HotlistEntries(ctx context.Context, ids []int64) ([]app.HotlistEntry, error) {
	byID := make(map[int64]app.HotlistEntry, len(ids))
	var chunks []int64
	for _, id := range ids {
		if c, _ := splitEntryID(id); !slices.Contains(chunks, c) {
			chunks = append(chunks, c)
		}
	}
	const batch = 500
	for start := 0; start < len(chunks); start += batch {
		part := chunks[start:min(start+batch, len(chunks))]
		args := make([]any, len(part))
		for i, c := range part {
			args[i] = c
		}
		rows, err := db.r.QueryContext(ctx, `SELECT c.id, l.name, c.entries FROM hotlist_chunks c
			JOIN lists l ON l.id = c.list_id WHERE c.id IN (?`+strings.Repeat(",?", len(part)-1)+")", args...)
		if err != nil {
			return nil, fmt.Errorf("hot-list entries: %w", err)
		}
		for rows.Next() {
			var (
				chunk int64
				list  string
				data  sql.RawBytes
			)
			if err := rows.Scan(&chunk, &list, &data); err != nil {
				rows.Close()
				return nil, fmt.Errorf("hot-list entries: %w", err)
			}
			err := eachEntry(data, func(slot int, e *chunkEntry) error {
				id := entryID(chunk, slot)
				if e.flags&flagDead != 0 || !slices.Contains(ids, id) {
					return nil
				}
				h, err := e.hotlistEntry(id, list)
				byID[id] = h
				return err
			})
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("hot-list entries, chunk %d: %w", chunk, err)
			}
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
			delete(byID, id) // an id asked twice comes once
		}
	}
	return out, nil
}

// listWriter writes one list's entries into new chunks inside a write
// transaction. At finish the list's repeated VRMs are resolved (the entry
// added last wins, whether it came in this write or before) and the list's
// packed keys are rewritten.
type listWriter struct {
	ctx    context.Context
	tx     *sql.Tx
	listID int64
	insert *sql.Stmt

	firstChunk int64 // the first chunk this writer writes
	chunk      int64 // the chunk being filled
	buf        []byte
	n          int // entries in buf

	// Every entry of the list that was live before (a merge) and every
	// entry added, in order: the VRMs back to back in arena, each ending
	// at ends[i]. The old entries' ids are in oldIDs; a new entry's id
	// follows from its position (chunks are filled one after another).
	arena  []byte
	ends   []uint32
	oldIDs []int64

	added  int
	lastID int64 // id of the entry added last
}

// newListWriter starts writing list listID. With replace the list's old
// entries are deleted first, and it returns how many there were; without,
// they stay and take part in resolving repeated VRMs.
func newListWriter(ctx context.Context, tx *sql.Tx, listID int64, replace bool) (*listWriter, int, error) {
	w := &listWriter{ctx: ctx, tx: tx, listID: listID}
	var removed int
	if replace {
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(sum(n), 0) FROM hotlist_keys WHERE list_id = ?", listID).Scan(&removed); err != nil {
			return nil, 0, err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM hotlist_chunks WHERE list_id = ?", listID); err != nil {
			return nil, 0, fmt.Errorf("remove old entries: %w", err)
		}
	} else {
		err := listKeys(ctx, tx, listID, func(id int64, vrm string) error {
			w.oldIDs = append(w.oldIDs, id)
			return w.note(vrm)
		})
		if err != nil {
			return nil, 0, err
		}
	}
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) + 1 FROM hotlist_chunks").Scan(&w.firstChunk); err != nil {
		return nil, 0, err
	}
	w.chunk = w.firstChunk
	var err error
	if w.insert, err = tx.PrepareContext(ctx, "INSERT INTO hotlist_chunks (id, list_id, entries) VALUES (?, ?, ?)"); err != nil {
		return nil, 0, err
	}
	return w, removed, nil
}

// note records a VRM of the list, in order.
func (w *listWriter) note(vrm string) error {
	if len(w.arena)+len(vrm) > math.MaxUint32 {
		return errors.New("too many entries for one list")
	}
	w.arena = append(w.arena, vrm...)
	w.ends = append(w.ends, uint32(len(w.arena)))
	return nil
}

func (w *listWriter) vrm(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = w.ends[i-1]
	}
	return w.arena[start:w.ends[i]]
}

// id is the entry id of the i-th entry noted.
func (w *listWriter) id(i int) int64 {
	if i < len(w.oldIDs) {
		return w.oldIDs[i]
	}
	j := i - len(w.oldIDs)
	return entryID(w.firstChunk+int64(j/chunkEntries), j%chunkEntries)
}

// add packs one entry, writing the chunk when it is full.
func (w *listWriter) add(flags, priority byte, vrm string, expires, added int64, detail []byte) error {
	if err := w.note(vrm); err != nil {
		return err
	}
	w.buf = appendEntry(w.buf, flags, priority, vrm, expires, added, detail)
	w.lastID = entryID(w.chunk, w.n)
	w.added++
	if w.n++; w.n == chunkEntries {
		return w.flush()
	}
	return nil
}

func (w *listWriter) flush() error {
	if w.n == 0 {
		return nil
	}
	if _, err := w.insert.ExecContext(w.ctx, w.chunk, w.listID, w.buf); err != nil {
		return fmt.Errorf("write entries: %w", err)
	}
	w.chunk++
	w.buf, w.n = w.buf[:0], 0
	return nil
}

// finish writes the last chunk, marks the entries later ones replaced as
// dead, rewrites the list's packed keys and returns how many entries the
// list now has.
func (w *listWriter) finish() (int, error) {
	if err := w.flush(); err != nil {
		return 0, err
	}
	w.insert.Close()
	dead := w.repeated()
	if err := w.markDead(dead); err != nil {
		return 0, err
	}
	isDead := make(map[int]bool, len(dead))
	for _, i := range dead {
		isDead[i] = true
	}
	kw := keysWriter{ctx: w.ctx, tx: w.tx, listID: w.listID}
	if err := kw.reset(); err != nil {
		return 0, err
	}
	for i := range w.ends {
		if !isDead[i] {
			if err := kw.add(w.id(i), w.vrm(i)); err != nil {
				return 0, err
			}
		}
	}
	if err := kw.flush(); err != nil {
		return 0, err
	}
	return len(w.ends) - len(dead), nil
}

// repeated returns the positions of the entries a later entry for the same
// VRM replaces: a sort of 64-bit hashes, the VRMs compared only where
// hashes are equal.
func (w *listWriter) repeated() []int {
	type hashPos struct {
		h   uint64
		pos uint32
	}
	seed := maphash.MakeSeed()
	hs := make([]hashPos, len(w.ends))
	for i := range hs {
		hs[i] = hashPos{maphash.Bytes(seed, w.vrm(i)), uint32(i)}
	}
	slices.SortFunc(hs, func(a, b hashPos) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	var dead []int
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j].h == hs[i].h {
			j++
		}
		// Within a run of equal hashes (almost always one VRM), an entry
		// is dead when a later one has the same VRM.
		for a := i; a < j; a++ {
			for b := a + 1; b < j; b++ {
				if string(w.vrm(int(hs[a].pos))) == string(w.vrm(int(hs[b].pos))) {
					dead = append(dead, int(hs[a].pos))
					break
				}
			}
		}
		i = j
	}
	return dead
}

// markDead sets the dead flag of the entries at the given positions,
// rewriting each chunk concerned once.
func (w *listWriter) markDead(dead []int) error {
	byChunk := map[int64][]int{}
	for _, i := range dead {
		c, slot := splitEntryID(w.id(i))
		byChunk[c] = append(byChunk[c], slot)
	}
	for c, slots := range byChunk {
		var data []byte
		if err := w.tx.QueryRowContext(w.ctx, "SELECT entries FROM hotlist_chunks WHERE id = ?", c).Scan(&data); err != nil {
			return fmt.Errorf("mark replaced entries: chunk %d: %w", c, err)
		}
		off := 0
		err := eachEntry(data, func(slot int, e *chunkEntry) error {
			if slices.Contains(slots, slot) {
				data[off] |= flagDead
			}
			off += entrySize(e)
			return nil
		})
		if err != nil {
			return fmt.Errorf("mark replaced entries: chunk %d: %w", c, err)
		}
		if _, err := w.tx.ExecContext(w.ctx, "UPDATE hotlist_chunks SET entries = ? WHERE id = ?", data, c); err != nil {
			return fmt.Errorf("mark replaced entries: %w", err)
		}
	}
	return nil
}

// entrySize is the packed size of e.
func entrySize(e *chunkEntry) int {
	n := 2 + uvarintLen(uint64(len(e.vrm))) + len(e.vrm) + varintLen(e.added) + uvarintLen(uint64(len(e.detail))) + len(e.detail)
	if e.flags&flagExpires != 0 {
		n += varintLen(e.expires)
	}
	return n
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

func varintLen(v int64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutVarint(b[:], v)
}

// scanChunks calls fn with every live entry of every list, list by list.
func (db *DB) scanChunks(ctx context.Context, fn func(listID, id int64, e *chunkEntry) error) error {
	rows, err := db.r.QueryContext(ctx, "SELECT id, list_id, entries FROM hotlist_chunks ORDER BY list_id, id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			chunk, list int64
			data        sql.RawBytes
		)
		if err := rows.Scan(&chunk, &list, &data); err != nil {
			return err
		}
		err := eachEntry(data, func(slot int, e *chunkEntry) error {
			if e.flags&flagDead != 0 {
				return nil
			}
			return fn(list, entryID(chunk, slot), e)
		})
		if err != nil {
			return fmt.Errorf("chunk %d: %w", chunk, err)
		}
	}
	return rows.Err()
}

// migrateHotlistChunks moves the entries of schema 1's hotlist table (a row
// each) into packed chunks, list by list in id order, and drops the table.
func migrateHotlistChunks(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT list_id FROM hotlist ORDER BY list_id")
	if err != nil {
		return err
	}
	var lists []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		lists = append(lists, id)
	}
	rows.Close()
	for _, list := range lists {
		if err := migrateList(ctx, tx, list); err != nil {
			return fmt.Errorf("hot list %d: %w", list, err)
		}
	}
	_, err = tx.ExecContext(ctx, "DROP TABLE hotlist")
	return err
}

func migrateList(ctx context.Context, tx *sql.Tx, list int64) error {
	w, _, err := newListWriter(ctx, tx, list, true)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT vrm, pattern, priority, covert, expires, added, detail
		FROM hotlist WHERE list_id = ? ORDER BY id`, list)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			vrm                   string
			pattern, prio, covert int
			expires               sql.NullInt64
			added                 int64
			detail                []byte
		)
		if err := rows.Scan(&vrm, &pattern, &prio, &covert, &expires, &added, &detail); err != nil {
			return err
		}
		var flags byte
		if pattern != 0 {
			flags |= flagPattern
		}
		if covert != 0 {
			flags |= flagCovert
		}
		if expires.Valid {
			flags |= flagExpires
		}
		if err := w.add(flags, byte(prio), vrm, expires.Int64, added, detail); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = w.finish()
	return err
}
