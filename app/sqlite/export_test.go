package sqlite

import "context"

// ChunkKeys returns the id and VRM of every live entry as the packed
// entries hold them, for checking the packed keys against.
func ChunkKeys(ctx context.Context, db *DB) (map[int64]string, error) {
	m := map[int64]string{}
	err := db.scanChunks(ctx, func(_, id int64, e *chunkEntry) error {
		m[id] = string(e.vrm)
		return nil
	})
	return m, err
}
