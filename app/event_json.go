package app

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// JSONTime is the layout of every time in the headless JSON lines: UTC,
// milliseconds.
const JSONTime = "2006-01-02T15:04:05.000Z07:00"

// JSONEncoder writes events as the headless JSON lines of DESIGN.md, one
// object per line: "read" lines for every read (match null or the best
// match, covert ones included: headless output is for the back office and
// tests, not the officer), "past-hit" lines (a read line plus "raised"),
// and "status" lines. Other event types are not written.
type JSONEncoder struct {
	w io.Writer
}

// NewJSONEncoder returns an encoder writing to w.
func NewJSONEncoder(w io.Writer) *JSONEncoder { return &JSONEncoder{w: w} }

// jsonMatch is a read line's "match".
type jsonMatch struct {
	Kind     MatchKind `json:"kind"`
	List     string    `json:"list"`
	Entry    string    `json:"entry"`
	Category string    `json:"category"`
	Priority int       `json:"priority"`
	Action   string    `json:"action"`
	Covert   bool      `json:"covert"`
}

// jsonRead is a read line; Raised is set on past-hit lines only.
type jsonRead struct {
	Type       EventType  `json:"type"`
	ID         string     `json:"id"`
	VRM        string     `json:"vrm"`
	Raw        string     `json:"raw"`
	Confidence float64    `json:"confidence"`
	Time       string     `json:"time"`
	Camera     string     `json:"camera"`
	Lat        *float64   `json:"lat"`
	Lon        *float64   `json:"lon"`
	Fix        FixKind    `json:"fix"`
	FixAgeMS   int64      `json:"fix_age_ms"`
	SpeedMPS   *float64   `json:"speed_mps"`
	HeadingDeg *float64   `json:"heading_deg"`
	Match      *jsonMatch `json:"match"`
	Raised     string     `json:"raised,omitempty"`
}

// jsonStatus is a status line; the part's own fields follow the common ones.
type jsonStatus struct {
	Type    EventType `json:"type"`
	Part    Part      `json:"part"`
	ID      string    `json:"id,omitempty"`
	State   PartState `json:"state"`
	Detail  string    `json:"detail,omitempty"`
	Updated string    `json:"updated"`

	FPS     *float64 `json:"fps,omitempty"`
	Dropped *int64   `json:"dropped,omitempty"`

	Fix      FixKind `json:"fix,omitempty"`
	FixAgeMS *int64  `json:"fix_age_ms,omitempty"`

	ClockSource   ClockSource `json:"clock_source,omitempty"`
	ClockOffsetMS *int64      `json:"clock_offset_ms,omitempty"`
	ClockSuspect  *bool       `json:"clock_suspect,omitempty"`

	Entries     *int   `json:"entries,omitempty"`
	Lists       *int   `json:"lists,omitempty"`
	ListsLoaded string `json:"lists_loaded,omitempty"`
	Generation  *int64 `json:"generation,omitempty"`

	Pending       *int   `json:"pending,omitempty"`
	OldestPending string `json:"oldest_pending,omitempty"`
	LastAck       string `json:"last_ack,omitempty"`
}

// Encode writes ev as one line, or nothing for an event type the headless
// format does not carry.
func (e *JSONEncoder) Encode(ev Event) error {
	var v any
	switch ev.Type {
	case EventRead, EventPastHit:
		if ev.Read == nil {
			return fmt.Errorf("encode %s event %d: no read", ev.Type, ev.Seq)
		}
		jr := readLine(*ev.Read, ev.Hit)
		jr.Type = ev.Type
		if ev.Type == EventPastHit && ev.Hit != nil {
			jr.Raised = jsonTime(ev.Hit.Time)
		}
		v = jr
	case EventStatus:
		if ev.Status == nil {
			return fmt.Errorf("encode status event %d: no status", ev.Seq)
		}
		v = statusLine(*ev.Status)
	default:
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event %d: %w", ev.Type, ev.Seq, err)
	}
	b = append(b, '\n')
	if _, err := e.w.Write(b); err != nil {
		return fmt.Errorf("write %s event %d: %w", ev.Type, ev.Seq, err)
	}
	return nil
}

func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(JSONTime)
}

// finite returns &f, or nil (JSON null) for NaN and infinities.
func finite(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func readLine(r Read, h *Hit) jsonRead {
	p := r.Position
	fix := p.Fix
	if fix == "" {
		fix = FixNone
	}
	jr := jsonRead{
		Type: EventRead, ID: r.ID, VRM: r.VRM, Raw: r.Raw, Confidence: r.Confidence,
		Time: jsonTime(r.Time), Camera: r.Camera, Fix: fix, FixAgeMS: p.Age.Milliseconds(),
	}
	if fix != FixNone {
		jr.Lat, jr.Lon = finite(p.Lat), finite(p.Lon)
		jr.SpeedMPS, jr.HeadingDeg = finite(p.SpeedMPS), finite(p.HeadingDeg)
	}
	if h != nil && len(h.Matches) > 0 {
		m := h.Matches[0]
		jr.Match = &jsonMatch{Kind: m.Kind, List: m.Entry.List, Entry: m.Entry.VRM,
			Category: m.Entry.Category, Priority: m.Entry.Priority, Action: m.Entry.Action,
			Covert: m.Entry.Covert}
	}
	return jr
}

func ptr[T any](v T) *T { return &v }

func statusLine(s PartStatus) jsonStatus {
	js := jsonStatus{Type: EventStatus, Part: s.Part, ID: s.ID, State: s.State, Detail: s.Detail,
		Updated: jsonTime(s.Updated)}
	switch s.Part {
	case PartCamera:
		js.FPS, js.Dropped = finite(s.FPS), ptr(s.Dropped)
	case PartGPS:
		js.Fix, js.FixAgeMS = s.Fix, ptr(s.FixAge.Milliseconds())
		if js.Fix == "" {
			js.Fix = FixNone
		}
	case PartClock:
		js.ClockSource, js.ClockOffsetMS, js.ClockSuspect = s.ClockSource, ptr(s.ClockOffset.Milliseconds()), ptr(s.ClockSuspect)
	case PartHotlist:
		js.Entries, js.Lists, js.Generation = ptr(s.Entries), ptr(s.Lists), ptr(s.Generation)
		js.ListsLoaded = jsonTime(s.ListsLoaded)
	case PartSync:
		js.Pending = ptr(s.Pending)
		js.OldestPending, js.LastAck = jsonTime(s.OldestPending), jsonTime(s.LastAck)
	}
	return js
}
