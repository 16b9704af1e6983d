package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
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
// It reads the packed hotlist_keys rows, not the hotlist table: stepping
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
	for i := 0; i < len(s); {
		id, n := uvarint(s[i:])
		if n <= 0 {
			return errBadKeys
		}
		i += n
		l, n := uvarint(s[i:])
		if n <= 0 || l > uint64(len(s)-i-n) {
			return errBadKeys
		}
		i += n
		if err := fn(int64(id), s[i:i+int(l)]); err != nil {
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

// rebuildKeys rewrites the packed keys of one list from its rows and returns
// how many entries the list has. Every transaction that changes a list's
// entries calls it before committing.
func rebuildKeys(ctx context.Context, tx *wtx, listID int64) (int, error) {
	if _, err := tx.ExecContext(ctx, "DELETE FROM hotlist_keys WHERE list_id = ?", listID); err != nil {
		return 0, fmt.Errorf("pack keys: %w", err)
	}
	rows, err := tx.Tx.QueryContext(ctx, "SELECT id, vrm FROM hotlist WHERE list_id = ?", listID)
	if err != nil {
		return 0, fmt.Errorf("pack keys: %w", err)
	}
	defer rows.Close()
	var (
		buf      []byte
		n, chunk int
		total    int
		id       int64
		vrm      sql.RawBytes
	)
	flush := func() error {
		_, err := tx.ExecContext(ctx, "INSERT INTO hotlist_keys (list_id, chunk, n, keys) VALUES (?, ?, ?, ?)", listID, chunk, n, buf)
		buf, n, chunk = buf[:0], 0, chunk+1
		return err
	}
	for rows.Next() {
		if err := rows.Scan(&id, &vrm); err != nil {
			return 0, fmt.Errorf("pack keys: %w", err)
		}
		// Each pair: uvarint id, uvarint length, the VRM's bytes.
		buf = binary.AppendUvarint(buf, uint64(id))
		buf = binary.AppendUvarint(buf, uint64(len(vrm)))
		buf = append(buf, vrm...)
		total++
		if n++; n == keysPerChunk {
			if err := flush(); err != nil {
				return 0, fmt.Errorf("pack keys: %w", err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("pack keys: %w", err)
	}
	if n > 0 {
		if err := flush(); err != nil {
			return 0, fmt.Errorf("pack keys: %w", err)
		}
	}
	return total, nil
}
