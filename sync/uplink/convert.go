package uplink

import (
	"fmt"
	"math"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/sync/wire"
)

// finite replaces NaN and infinities, which JSON cannot carry, by 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// optional is nil for an unknown (NaN) value.
func optional(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = wire.UTC(t)
	return &t
}

// toWire converts one outbox item to its wire form.
func toWire(it app.OutboxItem) (wire.Item, error) {
	switch it.Kind {
	case app.OutboxRead:
		if it.Read == nil {
			return wire.Item{}, fmt.Errorf("outbox item %d: read item without a read", it.Seq)
		}
		return wire.Item{Kind: wire.KindRead, Read: readToWire(it.Read)}, nil
	case app.OutboxOverview:
		if it.Read == nil {
			return wire.Item{}, fmt.Errorf("outbox item %d: overview item without a read", it.Seq)
		}
		return wire.Item{Kind: wire.KindOverview, Overview: &wire.Overview{ReadID: it.Read.ID, JPEG: it.Read.Overview}}, nil
	case app.OutboxHit:
		if it.Hit == nil {
			return wire.Item{}, fmt.Errorf("outbox item %d: hit item without a hit", it.Seq)
		}
		h := it.Hit
		w := &wire.Hit{ReadID: h.ReadID, Time: wire.UTC(h.Time), Past: h.Past, Matches: make([]wire.Match, 0, len(h.Matches))}
		for _, m := range h.Matches {
			w.Matches = append(w.Matches, wire.Match{Kind: string(m.Kind), Candidate: m.Candidate, Entry: EntryToWire(m.Entry)})
		}
		if len(h.Matches) > 0 {
			w.VRM = h.Matches[0].Candidate
		}
		return wire.Item{Kind: wire.KindHit, Hit: w}, nil
	case app.OutboxDecision:
		if it.Decision == nil {
			return wire.Item{}, fmt.Errorf("outbox item %d: decision item without a decision", it.Seq)
		}
		d := it.Decision
		return wire.Item{Kind: wire.KindDecision, Decision: &wire.Decision{ReadID: d.ReadID, Outcome: string(d.Outcome),
			Reason: d.Reason, Officer: d.Officer, Time: wire.UTC(d.Time)}}, nil
	case app.OutboxWanted:
		if it.Wanted == nil {
			return wire.Item{}, fmt.Errorf("outbox item %d: wanted item without an entry", it.Seq)
		}
		e := EntryToWire(*it.Wanted)
		return wire.Item{Kind: wire.KindWanted, Wanted: &e}, nil
	}
	return wire.Item{}, fmt.Errorf("outbox item %d: unknown kind %q", it.Seq, it.Kind)
}

func readToWire(r *app.Read) *wire.Read {
	p := r.Position
	w := &wire.Read{
		ID: r.ID, VRM: r.VRM, Raw: r.Raw, Confidence: finite(r.Confidence), Format: string(r.Format),
		Time: wire.UTC(r.Time), ClockSource: string(r.ClockSource), ClockOffsetMS: r.ClockOffset.Milliseconds(),
		ClockSuspect: r.ClockSuspect, Camera: r.Camera, Patch: r.Patch, PassID: r.PassID,
		Position: wire.Position{Fix: string(p.Fix), Lat: finite(p.Lat), Lon: finite(p.Lon), AgeMS: p.Age.Milliseconds(),
			Estimated: p.Estimated, SpeedMPS: finite(p.SpeedMPS), HeadingDeg: optional(p.HeadingDeg), HDOP: finite(p.HDOP),
			Sats: p.Sats, AltM: optional(p.AltM)},
	}
	for _, c := range r.Candidates {
		w.Candidates = append(w.Candidates, wire.Candidate{Text: c.Text, Confidence: finite(c.Confidence)})
	}
	for _, c := range r.CharConfidences {
		w.CharConfidences = append(w.CharConfidences, finite(c))
	}
	return w
}

// EntryToWire converts a hot-list entry to its wire form.
func EntryToWire(e app.HotlistEntry) wire.Entry {
	return wire.Entry{List: e.List, VRM: e.VRM, Category: e.Category, Priority: e.Priority, Action: e.Action,
		Information: e.Information, Markers: e.Markers, Make: e.Make, Model: e.Model, Colour: e.Colour,
		Reference: e.Reference, Expires: timePtr(e.Expires), Covert: e.Covert, AddedBy: e.AddedBy, Added: timePtr(e.Added)}
}

// EntryFromWire converts a downloaded entry for the car's store.
func EntryFromWire(list string, e wire.Entry) app.HotlistEntry {
	a := app.HotlistEntry{List: list, VRM: e.VRM, Category: e.Category, Priority: e.Priority, Action: e.Action,
		Information: e.Information, Markers: e.Markers, Make: e.Make, Model: e.Model, Colour: e.Colour,
		Reference: e.Reference, Covert: e.Covert, AddedBy: e.AddedBy}
	if e.Expires != nil {
		a.Expires = *e.Expires
	}
	if e.Added != nil {
		a.Added = *e.Added
	}
	return a
}
