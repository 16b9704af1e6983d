package app

import (
	"sync"
	"sync/atomic"
	"time"
)

// EventType says what an Event reports.
type EventType string

// Event types, as they appear in the headless JSON lines.
const (
	EventRead     EventType = "read"     // a read was committed (Hit set when it matched)
	EventHit      EventType = "hit"      // a committed read matched a visible (non-covert) entry
	EventPastHit  EventType = "past-hit" // a stored read matched a changed hot list
	EventStatus   EventType = "status"   // a part's state changed
	EventAlert    EventType = "alert"    // an alert with no read behind it: part lost/restored, overload
	EventAck      EventType = "ack"      // the officer acknowledged a hit
	EventDecision EventType = "decision" // the officer's decision on a hit was stored
)

// Event is one thing the engine tells its subscribers. Read, Hit, Status,
// Alert and Decision are set according to Type; events are values and
// subscribers must not modify what the pointers reach.
type Event struct {
	Type     EventType
	Seq      uint64    // per engine, increasing in publication order
	Time     time.Time // when it was published
	Read     *Read     // read, hit, past-hit (the plate patch is included)
	Hit      *Hit      // as stored: every match, covert ones included
	Status   *PartStatus
	Alert    *Alert    // the alert raised for it, if any
	Decision *Decision // decision
	ReadID   string    // ack, decision: the read acknowledged or decided
}

// Visible returns the event's matches an officer in the car may see: covert
// entries are left out (they go to the back office only).
func (e Event) Visible() []Match {
	if e.Hit == nil {
		return nil
	}
	return VisibleMatches(e.Hit.Matches)
}

// VisibleMatches returns ms without the covert entries, in the same order.
func VisibleMatches(ms []Match) []Match {
	var out []Match
	for _, m := range ms {
		if !m.Entry.Covert {
			out = append(out, m)
		}
	}
	return out
}

// Part names the parts of the car whose state the engine reports.
type Part string

// Parts.
const (
	PartCamera  Part = "camera"
	PartGPS     Part = "gps"
	PartClock   Part = "clock"
	PartHotlist Part = "hotlist"
	PartSync    Part = "sync"
	PartStore   Part = "store"
)

// PartState is how a part is doing.
type PartState string

// Part states.
const (
	StateUnknown  PartState = "unknown"  // not reported yet
	StateOK       PartState = "ok"       // working
	StateDegraded PartState = "degraded" // working, not to be trusted fully (old fix, suspect clock, stale lists)
	StateLost     PartState = "lost"     // not working: camera down, no fix, back office unreachable
)

// PartStatus is the state of one part. The fields after Detail belong to the
// part named by Part; the others are zero.
type PartStatus struct {
	Part    Part
	ID      string // camera id; empty for the other parts
	State   PartState
	Detail  string    // one short sentence for the officer or the admin
	Updated time.Time // when this status was reported

	// camera
	FPS     float64
	Dropped int64 // frames dropped at the hand-off since start

	// gps
	Fix    FixKind
	FixAge time.Duration // age of the newest usable fix

	// clock
	ClockSource  ClockSource
	ClockOffset  time.Duration
	ClockSuspect bool

	// hotlist
	Entries     int
	Lists       int
	ListsLoaded time.Time // newest list load; its age is what the officer sees
	Generation  int64

	// sync
	Pending       int       // outbox items waiting
	OldestPending time.Time // zero when none
	LastAck       time.Time // zero when never
}

// key identifies a part, cameras by id.
func (s PartStatus) key() string { return string(s.Part) + "/" + s.ID }

// changed reports whether s differs from old in a way a subscriber must hear
// about at once: state, detail, fix kind, clock source, list generation,
// list size. Counters and ages change all the time and are refreshed at the
// engine's status interval instead.
func (s PartStatus) changed(old PartStatus) bool {
	return s.State != old.State || s.Detail != old.Detail || s.Fix != old.Fix ||
		s.ClockSource != old.ClockSource || s.ClockSuspect != old.ClockSuspect ||
		s.Generation != old.Generation || s.Entries != old.Entries || s.Lists != old.Lists
}

// DefaultSubscriberBuffer is the event buffer of a subscription that asks
// for none.
const DefaultSubscriberBuffer = 256

// Subscription receives an engine's events. The engine never waits for a
// subscriber: when C is full, the oldest waiting event is dropped to make
// room, the drop is counted and Wake is signalled. A subscriber that finds
// Lagged() true has missed events and refreshes its view from the engine's
// state (Engine.Pending for the hits waiting, Engine.Status for parts).
// Hits are never lost that way: a hit stays in Engine.Pending until the
// officer decides it, whether or not its event was delivered.
type Subscription struct {
	// C delivers events in publication order, with gaps when lagged.
	C <-chan Event
	// Wake receives a value (capacity 1, never blocks the engine) whenever
	// events were dropped: the subscriber should call Lagged and refresh.
	Wake <-chan struct{}

	c       chan Event
	wake    chan struct{}
	dropped atomic.Uint64
	lagged  atomic.Bool
	closed  bool // under the hub's mutex
}

// Lagged reports how many events were dropped since the last call and
// whether any were; it resets both.
func (s *Subscription) Lagged() (dropped uint64, lagged bool) {
	return s.dropped.Swap(0), s.lagged.Swap(false)
}

// hub fans events out to subscriptions without ever blocking the
// publisher. Publishing is serialised by mu, which makes the hub the only
// sender on every channel: after it takes one event out of a full channel
// there is room for the next.
type hub struct {
	mu   sync.Mutex
	seq  uint64
	subs []*Subscription
}

func (h *hub) subscribe(buf int) *Subscription {
	if buf <= 0 {
		buf = DefaultSubscriberBuffer
	}
	s := &Subscription{c: make(chan Event, buf), wake: make(chan struct{}, 1)}
	s.C, s.Wake = s.c, s.wake
	h.mu.Lock()
	h.subs = append(h.subs, s)
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, x := range h.subs {
		if x == s {
			h.subs = append(h.subs[:i], h.subs[i+1:]...)
			break
		}
	}
	if !s.closed {
		s.closed = true
		close(s.c)
	}
}

// closeAll closes every subscription's channel: the engine has stopped.
func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.subs {
		if !s.closed {
			s.closed = true
			close(s.c)
		}
	}
	h.subs = nil
}

// publish stamps ev with the next sequence number and offers it to every
// subscriber; a full subscriber loses its oldest waiting event instead.
func (h *hub) publish(ev Event) Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	ev.Seq = h.seq
	for _, s := range h.subs {
		select {
		case s.c <- ev:
			continue
		default:
		}
		// Full: drop the oldest so the newest (a hit, a status) gets in.
		select {
		case <-s.c:
		default: // the subscriber emptied it meanwhile
		}
		s.dropped.Add(1)
		s.lagged.Store(true)
		select {
		case s.c <- ev:
		default: // cannot happen: the hub is the only sender
			s.dropped.Add(1)
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return ev
}
