package app

import (
	"context"
	"fmt"
	"time"
)

// ListsChanged is called after the stored hot lists changed (an import, a
// download, a wanted entry): it reloads the matcher and re-checks past reads
// (Recheck). It returns the past hits raised.
func (e *Engine) ListsChanged(ctx context.Context) (int, error) {
	e.init()
	if e.Lists != nil {
		if g, err := e.Lists.HotlistGeneration(ctx); err == nil {
			e.mu.Lock()
			e.gen, e.genKnown = g, true
			e.mu.Unlock()
		}
	}
	if e.Reloader != nil {
		if err := e.Reloader.Reload(ctx); err != nil {
			return 0, fmt.Errorf("reload hot lists: %w", err)
		}
	}
	return e.Recheck(ctx)
}

// Recheck matches the reads of the past-read window (this shift by default)
// against the hot lists as they are now and raises each read that gains a
// match it did not have as a past hit: stored (SaveHit, Past true), alerted
// per policy and published as a past-hit event with the read's own time and
// place. It returns how many past hits it raised.
func (e *Engine) Recheck(ctx context.Context) (int, error) {
	e.init()
	if e.Past == nil {
		return 0, nil
	}
	// Hold sightings back: a read matched against the old lists is stored
	// before we look, and every later one meets the new lists.
	e.procMu.Lock()
	defer e.procMu.Unlock()
	now := e.now()
	e.mu.Lock()
	from := e.ShiftStart
	e.mu.Unlock()
	if e.PastWindow > 0 {
		from = now.Add(-e.PastWindow)
	}
	reads, err := e.Past.ReadsBetween(ctx, from, now.Add(time.Millisecond))
	if err != nil {
		return 0, fmt.Errorf("re-check reads since %s: %w", from.Format(time.RFC3339), err)
	}
	n := 0
	for _, r := range reads {
		ms, err := e.Matcher.Match(candidates(r), now)
		if err != nil {
			return n, fmt.Errorf("re-check read %s: %w", r.ID, err)
		}
		if len(ms) == 0 {
			continue
		}
		old, _, err := e.Past.HitOf(ctx, r.ID)
		if err != nil {
			return n, fmt.Errorf("re-check read %s: %w", r.ID, err)
		}
		fresh := newMatches(ms, old.Matches)
		if len(fresh) == 0 {
			continue
		}
		all := append(append([]Match(nil), ms...), newMatches(old.Matches, ms)...)
		h := Hit{ReadID: r.ID, Time: now, Past: true, Matches: all}
		if err := e.Past.SaveHit(ctx, h); err != nil {
			return n, fmt.Errorf("re-check read %s: %w", r.ID, err)
		}
		if full, ok := e.Past.(interface {
			Read(context.Context, string) (Read, error)
		}); ok {
			if fr, err := full.Read(ctx, r.ID); err == nil {
				r = fr // with its plate patch, for the hit screen
			}
		}
		e.raisePast(r, h, fresh)
		n++
	}
	return n, nil
}

// raisePast alerts on the fresh matches only and publishes the stored hit.
func (e *Engine) raisePast(r Read, stored Hit, fresh []Match) {
	var a *Alert
	if len(VisibleMatches(fresh)) > 0 {
		a = e.Alerts.Hit(r, Hit{ReadID: r.ID, Time: stored.Time, Past: true, Matches: fresh})
		if a != nil {
			e.queue.push(*a)
		}
		e.mu.Lock()
		if p, ok := e.pending[r.ID]; ok {
			p.Hit, p.Acknowledged = stored, false // a new entry: the officer must look again
		} else {
			e.pending[r.ID] = &PendingHit{Read: r, Hit: stored, Alert: a, Raised: e.now()}
		}
		e.mu.Unlock()
	}
	rr, h := r, stored
	e.publish(Event{Type: EventPastHit, Read: &rr, Hit: &h, Alert: a})
}

// matchKey identifies the entry a match is on by what it says — list, VRM,
// category, priority — not by its id, which a store may change when it
// rewrites a list: a list downloaded again unchanged raises nothing twice,
// an entry whose category or priority changed is news.
func matchKey(m Match) string {
	e := m.Entry
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d", e.List, e.VRM, e.Category, e.Priority)
}

// newMatches returns the matches of ms on entries that old has no match on.
func newMatches(ms, old []Match) []Match {
	seen := map[string]bool{}
	for _, m := range old {
		seen[matchKey(m)] = true
	}
	var out []Match
	for _, m := range ms {
		if !seen[matchKey(m)] {
			out = append(out, m)
		}
	}
	return out
}
