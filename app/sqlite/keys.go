package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// keysPerChunk is how many (id, VRM) pairs one hotlist_keys row packs: ten
// million entries make about 150 rows of under 1 MiB.
const keysPerChunk = 1 << 16

// HotlistKeys calls fn with the id and VRM (or pattern) of every entry of
// every list, expired ones included, from one consistent snapshot. It streams
// one chunk at a time: memory does not grow with the number of entries. An
// error from fn stops the scan and is returned. The strings passed to fn
// share memory with their chunk; keeping one keeps its chunk's bytes alive.
//
// It reads the packed hotlist_keys rows, not the packed entries: stepping
// SQLite through ten million rows costs seconds, decoding the same pairs from
// ~150 blobs a fraction of that.
func (db *DB) HotlistKeys(ctx context.Context, fn func(id int64, vrm string) error) error {
	rows, err := db.r.QueryContext(ctx, "SELECT list_id, chunk, keys FROM hotlist_keys ORDER BY list_id, chunk")
	if err != nil {
		return fmt.Errorf("hot-list keys: %w", err)
	}
	defer rows.Close()
	var (
		listID, chunk int64
		keys          sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&listID, &chunk, &keys); err != nil {
			return fmt.Errorf("hot-list keys: %w", err)
		}
		if err := decodeKeys(string(keys), fn); err != nil {
			if errors.Is(err, errBadKeys) {
				return fmt.Errorf("hot-list keys of list %d chunk %d: %w", listID, chunk, err)
			}
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("hot-list keys: %w", err)
	}
	return nil
}

var errBadKeys = errors.New("corrupt packed keys")

// decodeKeys calls fn for each pair packed in s. It takes a string so that
// the VRMs handed on are substrings, not one allocation each.
func decodeKeys(s string, fn func(id int64, vrm string) error) error {
	var id int64
	for i := 0; i < len(s); {
		d, n := uvarint(s[i:])
		if n <= 0 || d > math.MaxInt64-uint64(id) {
			return errBadKeys
		}
		id += int64(d)
		i += n
		l, n := uvarint(s[i:])
		if n <= 0 || l > uint64(len(s)-i-n) {
			return errBadKeys
		}
		i += n
		if err := fn(id, s[i:i+int(l)]); err != nil {
			return err
		}
		i += int(l)
	}
	return nil
}

// uvarint is binary.Uvarint for a string.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// keysWriter rewrites one list's packed keys: reset, add every live entry
// in id order, flush.
type keysWriter struct {
	ctx    context.Context
	tx     *sql.Tx
	listID int64
	buf    []byte
	n      int
	chunk  int
	prev   int64
}

func (k *keysWriter) reset() error {
	if _, err := k.tx.ExecContext(k.ctx, "DELETE FROM hotlist_keys WHERE list_id = ?", k.listID); err != nil {
		return fmt.Errorf("pack keys: %w", err)
	}
	return nil
}

// add packs one pair: the id as a uvarint difference from the row's
// previous id (ids only grow within a list), the VRM's length and bytes.
func (k *keysWriter) add(id int64, vrm []byte) error {
	if id < k.prev {
		return fmt.Errorf("pack keys: id %d after %d", id, k.prev)
	}
	k.buf = binary.AppendUvarint(k.buf, uint64(id-k.prev))
	k.buf = binary.AppendUvarint(k.buf, uint64(len(vrm)))
	k.buf = append(k.buf, vrm...)
	k.prev = id
	if k.n++; k.n == keysPerChunk {
		return k.flush()
	}
	return nil
}

func (k *keysWriter) flush() error {
	if k.n == 0 {
		return nil
	}
	_, err := k.tx.ExecContext(k.ctx, "INSERT INTO hotlist_keys (list_id, chunk, n, keys) VALUES (?, ?, ?, ?)", k.listID, k.chunk, k.n, k.buf)
	if err != nil {
		return fmt.Errorf("pack keys: %w", err)
	}
	k.buf, k.n, k.chunk, k.prev = k.buf[:0], 0, k.chunk+1, 0
	return nil
}

// listKeys calls fn with the id and VRM of every live entry of one list,
// in id order, inside tx.
func listKeys(ctx context.Context, tx *sql.Tx, listID int64, fn func(id int64, vrm string) error) error {
	rows, err := tx.QueryContext(ctx, "SELECT chunk, keys FROM hotlist_keys WHERE list_id = ? ORDER BY chunk", listID)
	if err != nil {
		return fmt.Errorf("hot-list keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			chunk int64
			keys  string
		)
		if err := rows.Scan(&chunk, &keys); err != nil {
			return fmt.Errorf("hot-list keys: %w", err)
		}
		if err := decodeKeys(keys, fn); err != nil {
			return fmt.Errorf("hot-list keys of list %d chunk %d: %w", listID, chunk, err)
		}
	}
	return rows.Err()
}
