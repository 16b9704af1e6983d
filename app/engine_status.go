package app

import (
	"context"
	"sort"
)

// SetStatus records a part's state. It is published when it changed (see
// PartStatus fields) or StatusRefresh has passed since the part was last
// published, and a camera, the GPS or the link going lost or coming back is
// announced once (AlertPolicy.PartChanged).
func (e *Engine) SetStatus(s PartStatus) {
	e.init()
	now := e.now()
	if s.Updated.IsZero() {
		s.Updated = now
	}
	if s.State == "" {
		s.State = StateUnknown
	}
	refresh := e.StatusRefresh
	if refresh <= 0 {
		refresh = DefaultStatusRefresh
	}
	k := s.key()
	e.mu.Lock()
	old, seen := e.parts[k]
	e.parts[k] = s
	last := e.published[k]
	pub := !seen || s.changed(old) || now.Sub(last) >= refresh
	if pub {
		e.published[k] = now
	}
	e.mu.Unlock()
	var a *Alert
	if !seen || old.State != s.State {
		if a = e.Alerts.PartChanged(s); a != nil {
			e.queue.push(*a)
		}
	}
	if pub {
		ss := s
		e.publish(Event{Type: EventStatus, Status: &ss})
	}
	if a != nil {
		e.publish(Event{Type: EventAlert, Alert: a})
	}
}

// Status returns the latest state of every part reported so far, in a
// stable order.
func (e *Engine) Status() []PartStatus {
	e.init()
	e.mu.Lock()
	out := make([]PartStatus, 0, len(e.parts))
	for _, s := range e.parts {
		out = append(out, s)
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// TickOnce does one tick of the engine's housekeeping, synchronously: poll
// the probes, notice a hot-list change (reload and re-check), and queue and
// publish the repeats that are due. Start calls it every Tick; tests call it
// with their own clock.
func (e *Engine) TickOnce(ctx context.Context) {
	e.init()
	for _, p := range e.Probes {
		for _, s := range p.Probe(ctx) {
			e.SetStatus(s)
		}
	}
	if e.Lists != nil {
		g, err := e.Lists.HotlistGeneration(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.Logger.Warn("hot-list generation", "err", err)
			}
		} else {
			e.mu.Lock()
			changed := e.genKnown && g != e.gen
			e.gen, e.genKnown = g, true
			e.mu.Unlock()
			if changed {
				if n, err := e.ListsChanged(ctx); err != nil {
					if ctx.Err() == nil {
						e.Logger.Error("hot lists changed", "err", err)
					}
				} else if n > 0 {
					e.Logger.Info("past hits raised", "count", n)
				}
			}
		}
	}
	for _, a := range e.Alerts.Due() {
		e.queue.push(a)
		aa := a
		e.publish(Event{Type: EventAlert, ReadID: a.ReadID, Alert: &aa})
	}
}
