package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Pending returns the hits waiting for the officer's decision, most urgent
// first, then oldest first. A subscriber that lagged rebuilds its hit
// screens from it.
func (e *Engine) Pending() []PendingHit {
	e.init()
	e.mu.Lock()
	out := make([]PendingHit, 0, len(e.pending))
	for _, p := range e.pending {
		out = append(out, *p)
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if pi, pj := out[i].priority(), out[j].priority(); pi != pj {
			return pi < pj
		}
		return out[i].Raised.Before(out[j].Raised)
	})
	return out
}

// Acknowledge records that the officer has seen the hit on readID: its
// repeats stop and it stays in Pending, acknowledged, until Decide. It
// returns ErrNoHit when no hit on readID is waiting; acknowledging twice is
// fine.
func (e *Engine) Acknowledge(readID string) error {
	e.init()
	e.mu.Lock()
	p, ok := e.pending[readID]
	if ok {
		p.Acknowledged = true
	}
	e.mu.Unlock()
	e.Alerts.Ack(readID)
	if !ok {
		return fmt.Errorf("acknowledge %s: %w", readID, ErrNoHit)
	}
	e.publish(Event{Type: EventAck, ReadID: readID})
	return nil
}

// LogOn sets the officer whose id stamps decisions, checks and wanted
// entries; a new officer starts a new shift for past-read matching.
func (e *Engine) LogOn(o Officer) {
	e.init()
	e.mu.Lock()
	changed := e.officer.ID != o.ID
	e.officer = o
	if changed && o.ID != "" {
		e.ShiftStart = e.now()
	}
	e.mu.Unlock()
}

// Officer returns the officer logged on (zero when none).
func (e *Engine) Officer() Officer {
	e.init()
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.officer
}

// Decide validates and stores the officer's decision on a hit; the hit stops
// alerting and leaves Pending. An empty Officer or Time is filled with the officer
// logged on and Now.
func (e *Engine) Decide(ctx context.Context, d Decision) error {
	e.init()
	if e.Decisions == nil {
		return fmt.Errorf("decide on %s: %w", d.ReadID, ErrNotWired)
	}
	if d.Officer == "" {
		d.Officer = e.Officer().ID
	}
	if d.Time.IsZero() {
		d.Time = e.now()
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("decide on %s: %w", d.ReadID, err)
	}
	if err := e.Decisions.SaveDecision(ctx, d); err != nil {
		return fmt.Errorf("decide on %s: %w", d.ReadID, err)
	}
	e.mu.Lock()
	delete(e.pending, d.ReadID)
	e.mu.Unlock()
	e.Alerts.Ack(d.ReadID)
	e.publish(Event{Type: EventDecision, ReadID: d.ReadID, Decision: &d})
	return nil
}

// NormalizeVRM upper-cases a typed mark and drops spaces and hyphens; it
// rejects anything but letters and digits (app/vrm has the full rules).
func NormalizeVRM(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		default:
			return "", fmt.Errorf("%q: %w", s, ErrInvalidVRM)
		}
	}
	if b.Len() == 0 || b.Len() > 10 {
		return "", fmt.Errorf("%q: %w", s, ErrInvalidVRM)
	}
	return b.String(), nil
}

// Check is the officer's manual check of a VRM: what the hot lists hold
// for it now, covert entries left out. It is audited when an Auditor is set.
func (e *Engine) Check(ctx context.Context, vrm string) ([]Match, error) {
	e.init()
	v, err := NormalizeVRM(vrm)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	ms, err := e.Matcher.Match([]Candidate{{Text: v, Confidence: 1}}, e.now())
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", v, err)
	}
	if e.Auditor != nil {
		ev := AuditEvent{Time: e.now(), Actor: e.actor(), Action: "check", Detail: v}
		if err := e.Auditor.Audit(ctx, ev); err != nil {
			return nil, fmt.Errorf("check %s: audit: %w", v, err)
		}
	}
	return VisibleMatches(ms), nil
}

func (e *Engine) actor() string {
	if id := e.Officer().ID; id != "" {
		return id
	}
	return "system"
}

// AddWanted stores a "new wanted" entry the officer typed, reloads the
// matcher and re-checks this shift's reads against it: a read of that VRM
// earlier in the shift is raised as a past hit. It returns the entry as
// stored and the past hits raised.
func (e *Engine) AddWanted(ctx context.Context, en HotlistEntry) (HotlistEntry, int, error) {
	e.init()
	if e.Wanted == nil {
		return en, 0, fmt.Errorf("add wanted %s: %w", en.VRM, ErrNotWired)
	}
	v, err := NormalizeVRM(en.VRM)
	if err != nil && !en.IsPattern() {
		return en, 0, fmt.Errorf("add wanted: %w", err)
	}
	if err == nil {
		en.VRM = v
	}
	if en.AddedBy == "" {
		en.AddedBy = e.Officer().ID
	}
	if en.AddedBy == "" {
		return en, 0, fmt.Errorf("add wanted %s: %w", en.VRM, ErrNoOfficer)
	}
	if en.Expires.IsZero() {
		en.Expires = e.now().Add(DefaultWantedTTL)
	}
	stored, err := e.Wanted.AddWanted(ctx, en)
	if err != nil {
		return en, 0, fmt.Errorf("add wanted %s: %w", en.VRM, err)
	}
	n, err := e.ListsChanged(ctx)
	if err != nil {
		return stored, n, fmt.Errorf("add wanted %s: %w", en.VRM, err)
	}
	return stored, n, nil
}
