package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ukanpr/anpr/app"
)

// The store serves the engine's past-read matching directly.
var _ app.PastReads = (*DB)(nil)

// readsPage bounds one query of ReadsBetween.
const readsPage = 2000

// ReadsBetween returns every read captured in [from, to), newest first,
// without images, paging through the store so a long shift never needs one
// huge query.
func (db *DB) ReadsBetween(ctx context.Context, from, to time.Time) ([]app.Read, error) {
	var out []app.Read
	seen := map[string]bool{}
	for {
		rs, err := db.Reads(ctx, ReadQuery{From: from, To: to, Limit: readsPage})
		if err != nil {
			return nil, fmt.Errorf("reads between %s and %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
		}
		fresh := 0
		for _, r := range rs {
			if !seen[r.ID] {
				seen[r.ID] = true
				out = append(out, r)
				fresh++
			}
		}
		if len(rs) < readsPage || fresh == 0 {
			return out, nil
		}
		// Reads sharing the oldest millisecond may straddle the page: ask
		// for that millisecond again and skip what was seen.
		to = rs[len(rs)-1].Time.Add(time.Millisecond)
	}
}

// HitOf returns a read's stored hit; ok is false when the read has none.
func (db *DB) HitOf(ctx context.Context, readID string) (h app.Hit, ok bool, err error) {
	h, err = db.Hit(ctx, readID)
	if errors.Is(err, ErrNotFound) {
		return app.Hit{}, false, nil
	}
	if err != nil {
		return app.Hit{}, false, err
	}
	return h, true, nil
}
