package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// The engine's stages and the backpressure on each edge:
//
//	vision ──Sighting──▶ Engine.Process: geotag (Locator.At) → match (Matcher) → commit (ReadStore)
//	                          │ block: a read is never dropped; a failing store is retried
//	                          │        with backoff and the sighting channel waits
//	                          ├──Alert──▶ alert queue ──▶ player goroutine ──▶ Player.Play
//	                          │           (never blocks the engine; the most urgent plays first;
//	                          │            a hit acknowledged before its turn is not played)
//	                          └──Event──▶ hub ──▶ each Subscription.C (buffered)
//	                                      (never blocks the engine: a full subscriber loses its
//	                                       oldest event, counted, Wake signalled; undecided
//	                                       hits stay in Engine.Pending whatever was dropped)
//
// A read is committed before its alert is queued or any of its events is
// published.

// ReadStore commits reads. SaveRead must return only once the read (and its
// hit, when not nil) is durable.
type ReadStore interface {
	SaveRead(ctx context.Context, r Read, hit *Hit) error
}

// DecisionStore stores officers' decisions. SaveDecision writes the decision
// and its audit record in one transaction (app/sqlite does), so the engine
// does not audit decisions separately.
type DecisionStore interface {
	SaveDecision(ctx context.Context, d Decision) error
}

// Auditor records officer actions the stores do not audit themselves.
type Auditor interface {
	Audit(ctx context.Context, ev AuditEvent) error
}

// WantedStore stores "new wanted" entries an officer adds in the car, with
// their audit record.
type WantedStore interface {
	AddWanted(ctx context.Context, e HotlistEntry) (HotlistEntry, error)
}

// Reloader reloads the matcher's index after the stored hot lists changed.
type Reloader interface {
	Reload(ctx context.Context) error
}

// GenerationSource reports the stored hot lists' generation, which changes
// with every import, download or wanted entry (by this process or another).
type GenerationSource interface {
	HotlistGeneration(ctx context.Context) (int64, error)
}

// PastReads is what past-read matching needs from the store.
type PastReads interface {
	// ReadsBetween returns the reads captured in [from, to), without images.
	ReadsBetween(ctx context.Context, from, to time.Time) ([]Read, error)
	// HitOf returns the stored hit of a read; ok is false when it has none.
	HitOf(ctx context.Context, readID string) (h Hit, ok bool, err error)
	// SaveHit stores a hit raised after its read, replacing any earlier one.
	SaveHit(ctx context.Context, h Hit) error
}

// ClockReading is how the system clock compares with GPS time now.
type ClockReading struct {
	Source  ClockSource   // ClockGPS when Offset is known and within bounds
	Offset  time.Duration // GPS time minus system time; 0 when unknown
	Suspect bool          // Offset beyond the bound, or the receiver's date corrupt
}

// Clock reports the GPS–system clock comparison (the GPS tracker provides it).
type Clock interface {
	Reading() ClockReading
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() ClockReading

// Reading calls f.
func (f ClockFunc) Reading() ClockReading { return f() }

// StatusProbe samples the state of one or more parts; the engine calls it
// from its own goroutine at its tick.
type StatusProbe interface {
	Probe(ctx context.Context) []PartStatus
}

// ProbeFunc adapts a function to StatusProbe.
type ProbeFunc func(ctx context.Context) []PartStatus

// Probe calls f.
func (f ProbeFunc) Probe(ctx context.Context) []PartStatus { return f(ctx) }

// PendingHit is a hit waiting for the officer's decision. Acknowledge
// silences it (Acknowledged); Decide removes it.
type PendingHit struct {
	Read         Read
	Hit          Hit    // covert matches included; show Visible()
	Alert        *Alert // nil when the policy kept it silent (same VRM lately)
	Raised       time.Time
	Acknowledged bool
}

// Visible returns the matches the officer may see.
func (p PendingHit) Visible() []Match { return VisibleMatches(p.Hit.Matches) }

func (p PendingHit) priority() int {
	best := 10
	for _, m := range p.Visible() {
		if m.Entry.Priority > 0 && m.Entry.Priority < best {
			best = m.Entry.Priority
		}
	}
	return best
}

// Errors of officer actions.
var (
	ErrNoHit      = errors.New("no hit waiting on that read")
	ErrNotWired   = errors.New("not available in this car")
	ErrNoOfficer  = errors.New("no officer logged on")
	ErrStopped    = errors.New("engine stopped")
	ErrInvalidVRM = errors.New("not a registration mark")
)

// Defaults for an Engine's zero fields.
const (
	DefaultTick          = time.Second
	DefaultStatusRefresh = 10 * time.Second
	DefaultRetryMin      = 100 * time.Millisecond
	DefaultRetryMax      = 5 * time.Second
	// DefaultWantedTTL is the expiry of a wanted entry the officer gives none.
	DefaultWantedTTL = 24 * time.Hour
)

// Engine turns sightings into committed, matched, alerted reads and tells
// its subscribers. Set the exported fields before Start (or the first
// Process); Locator, Matcher and Store are required, the rest optional.
type Engine struct {
	Locator Locator
	Matcher Matcher
	Store   ReadStore

	Clock     Clock            // nil: system clock, no offset known
	Alerts    *AlertPolicy     // nil: an AlertPolicy with the defaults
	Player    Player           // nil: alerts are shown (events) but not sounded
	Decisions DecisionStore    // nil: Decide returns ErrNotWired
	Auditor   Auditor          // nil: manual checks are not audited
	Wanted    WantedStore      // nil: AddWanted returns ErrNotWired
	Reloader  Reloader         // reloaded before past-read matching
	Past      PastReads        // nil: no past-read matching
	Lists     GenerationSource // polled at each tick: a change reloads and re-checks
	Probes    []StatusProbe    // polled at each tick

	// PastWindow is how far back past-read matching looks; 0: since the
	// shift started (ShiftStart).
	PastWindow time.Duration
	// ShiftStart is when this shift began (officer log-on); zero: set to
	// Now by Start or the first Process.
	ShiftStart time.Time
	// Tick is how often Start's loop polls probes and plays repeats (DefaultTick).
	Tick time.Duration
	// StatusRefresh: a part's status is published when it changes, and
	// otherwise at most this often (DefaultStatusRefresh).
	StatusRefresh time.Duration
	// RetryMin and RetryMax bound the backoff of a failing store.
	RetryMin, RetryMax time.Duration

	Now    func() time.Time                     // time.Now when nil
	After  func(time.Duration) <-chan time.Time // time.After when nil: store retries
	NewID  func() (string, error)               // NewUUID when nil
	Logger *slog.Logger                         // slog.Default() when nil

	initOnce sync.Once
	hub      hub
	procMu   sync.Mutex // serialises Process with Recheck: no read slips between list versions

	mu        sync.Mutex
	pending   map[string]*PendingHit
	parts     map[string]PartStatus
	published map[string]time.Time
	officer   Officer
	gen       int64
	genKnown  bool
	storeDown bool

	queue alertQueue

	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{} // closed when the sighting loop has ended
	runErr error
}

func (e *Engine) init() {
	e.initOnce.Do(func() {
		if e.Alerts == nil {
			e.Alerts = &AlertPolicy{}
		}
		if e.Alerts.Now == nil {
			e.Alerts.Now = e.now
		}
		if e.Logger == nil {
			e.Logger = slog.Default()
		}
		if e.ShiftStart.IsZero() {
			e.ShiftStart = e.now().UTC()
		}
		e.pending = map[string]*PendingHit{}
		e.parts = map[string]PartStatus{}
		e.published = map[string]time.Time{}
		e.queue.wake = make(chan struct{}, 1)
	})
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) after(d time.Duration) <-chan time.Time {
	if e.After != nil {
		return e.After(d)
	}
	return time.After(d)
}

// NewUUID returns a random (version 4) UUID from crypto/rand.
func NewUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:]), nil
}

// Subscribe returns a subscription with room for buf events
// (DefaultSubscriberBuffer when buf ≤ 0). Its channel closes at Stop or
// Unsubscribe.
func (e *Engine) Subscribe(buf int) *Subscription {
	e.init()
	return e.hub.subscribe(buf)
}

// Unsubscribe ends s and closes its channel.
func (e *Engine) Unsubscribe(s *Subscription) { e.hub.unsubscribe(s) }

func (e *Engine) publish(ev Event) {
	ev.Time = e.now()
	e.hub.publish(ev)
}

// Start runs the engine on in until in is closed or Stop: one goroutine
// reads sightings, one plays alerts, one ticks (probes, repeats, hot-list
// changes). Wait returns when in has been drained.
func (e *Engine) Start(ctx context.Context, in <-chan Sighting) error {
	e.init()
	if e.Locator == nil || e.Matcher == nil || e.Store == nil {
		return errors.New("engine needs a locator, a matcher and a store")
	}
	ctx, e.cancel = context.WithCancel(ctx)
	e.done = make(chan struct{})
	e.wg.Add(3)
	go func() {
		defer e.wg.Done()
		defer close(e.done)
		if err := e.Run(ctx, in); err != nil && !errors.Is(err, context.Canceled) {
			e.mu.Lock()
			e.runErr = err
			e.mu.Unlock()
		}
	}()
	go func() {
		defer e.wg.Done()
		e.playLoop(ctx)
	}()
	go func() {
		defer e.wg.Done()
		tick := e.Tick
		if tick <= 0 {
			tick = DefaultTick
		}
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			e.TickOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Wait returns when the sighting channel given to Start has been closed and
// every sighting on it committed, or the engine was stopped; the error says
// why a read could not be committed.
func (e *Engine) Wait() error {
	if e.done == nil {
		return nil
	}
	<-e.done
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runErr
}

// Stop stops the engine's goroutines, waits for them and closes every
// subscription. A sighting still being committed is abandoned only if its
// store call honours the cancelled context; stop the sighting source and
// Wait first to commit everything.
func (e *Engine) Stop() {
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	e.hub.closeAll()
}

// Run processes sightings from in until in is closed (nil) or ctx is done.
func (e *Engine) Run(ctx context.Context, in <-chan Sighting) error {
	e.init()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case s, ok := <-in:
			if !ok {
				return nil
			}
			if r, _, err := e.Process(ctx, s); err != nil {
				// Only a stop during a store outage gets here: say which read.
				e.Logger.Error("read not committed", "read", r.ID, "vrm", r.VRM, "camera", r.Camera, "err", err)
				return err
			}
		}
	}
}

// Process turns one sighting into a committed read: geotag at capture time,
// match every candidate, commit the read and its hit, then queue the alert
// and publish the events. It blocks, retrying the store with backoff, until
// the read is committed or ctx is done; only then does it return an error
// (the read was not stored).
func (e *Engine) Process(ctx context.Context, s Sighting) (Read, *Hit, error) {
	e.init()
	e.procMu.Lock()
	defer e.procMu.Unlock()
	r, err := e.newRead(s)
	if err != nil {
		return Read{}, nil, err
	}
	ms, err := e.Matcher.Match(candidates(r), r.Time)
	if err != nil {
		// A broken index must not lose the read: store it unmatched.
		e.Logger.Error("match read", "read", r.ID, "vrm", r.VRM, "err", err)
	}
	var hit *Hit
	if len(ms) > 0 {
		hit = &Hit{ReadID: r.ID, Time: e.now(), Matches: ms}
	}
	if err := e.commit(ctx, r, hit); err != nil {
		return r, hit, err
	}
	e.raise(r, hit, EventRead)
	return r, hit, nil
}

// newRead stamps, geotags and identifies a sighting.
func (e *Engine) newRead(s Sighting) (Read, error) {
	id, err := e.newID()
	if err != nil {
		return Read{}, err
	}
	t := s.Time
	if t.IsZero() {
		t = e.now()
	}
	t = t.UTC().Truncate(time.Millisecond)
	clk := ClockReading{Source: ClockSystem}
	if e.Clock != nil {
		clk = e.Clock.Reading()
	}
	if clk.Source == "" {
		clk.Source = ClockSystem
	}
	r := Read{
		ID: id, VRM: s.Text, Raw: s.Raw, Confidence: s.Confidence,
		Candidates: s.Candidates, CharConfidences: s.CharConfidences, Format: s.Format,
		Time: t, ClockSource: clk.Source, ClockOffset: clk.Offset, ClockSuspect: clk.Suspect,
		Camera: s.Camera, Patch: s.Patch, Overview: s.Overview, PassID: s.PassID,
	}
	if r.Format == "" {
		r.Format = FormatUnknown
	}
	if len(r.Candidates) == 0 && r.VRM != "" {
		r.Candidates = []Candidate{{Text: r.VRM, Confidence: r.Confidence}}
	}
	// The locator works on GPS time: move the system-clock stamp onto it.
	r.Position = e.Locator.At(t.Add(clk.Offset))
	return r, nil
}

func (e *Engine) newID() (string, error) {
	if e.NewID != nil {
		return e.NewID()
	}
	return NewUUID()
}

// candidates returns every reading of r the matcher should try.
func candidates(r Read) []Candidate {
	if len(r.Candidates) > 0 {
		return r.Candidates
	}
	return []Candidate{{Text: r.VRM, Confidence: r.Confidence}}
}

// commit stores r until it sticks: vision→engine→store never drops a read.
func (e *Engine) commit(ctx context.Context, r Read, hit *Hit) error {
	wait := e.RetryMin
	if wait <= 0 {
		wait = DefaultRetryMin
	}
	maxWait := e.RetryMax
	if maxWait <= 0 {
		maxWait = DefaultRetryMax
	}
	for {
		err := e.Store.SaveRead(ctx, r, hit)
		if err == nil {
			e.storeUp()
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("commit read %s: %w", r.ID, errors.Join(ctx.Err(), err))
		}
		e.storeFailing(err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("commit read %s: %w", r.ID, errors.Join(ctx.Err(), err))
		case <-e.after(wait):
		}
		wait = min(2*wait, maxWait)
	}
}

func (e *Engine) storeFailing(err error) {
	e.mu.Lock()
	first := !e.storeDown
	e.storeDown = true
	e.mu.Unlock()
	if first {
		e.Logger.Error("store failing; reads wait and are retried", "err", err)
		e.SetStatus(PartStatus{Part: PartStore, State: StateLost, Detail: "reads cannot be stored: " + err.Error()})
	}
}

func (e *Engine) storeUp() {
	e.mu.Lock()
	was := e.storeDown
	e.storeDown = false
	e.mu.Unlock()
	if was {
		e.Logger.Info("store recovered")
		e.SetStatus(PartStatus{Part: PartStore, State: StateOK})
	}
}

// raise runs after r (and hit) are committed: decide and queue the alert,
// keep the hit pending, publish the read event (typ: read or past-hit) and,
// for a live hit the officer may see, the hit event.
func (e *Engine) raise(r Read, hit *Hit, typ EventType) {
	var a *Alert
	visible := hit != nil && len(VisibleMatches(hit.Matches)) > 0
	if visible {
		a = e.Alerts.Hit(r, *hit)
		if a != nil {
			e.queue.push(*a)
		}
		e.mu.Lock()
		if p, ok := e.pending[r.ID]; ok {
			p.Hit, p.Acknowledged = *hit, false
		} else {
			e.pending[r.ID] = &PendingHit{Read: r, Hit: *hit, Alert: a, Raised: e.now()}
		}
		e.mu.Unlock()
	}
	rr := r
	ev := Event{Type: typ, Read: &rr, Hit: hit}
	if typ == EventPastHit {
		ev.Alert = a
	}
	e.publish(ev)
	if visible && typ == EventRead {
		e.publish(Event{Type: EventHit, Read: &rr, Hit: hit, Alert: a})
	}
}

// playLoop plays queued alerts one at a time, most urgent first.
func (e *Engine) playLoop(ctx context.Context) {
	logged := false
	for {
		a, ok := e.queue.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-e.queue.wake:
				continue
			}
		}
		if err := e.PlayAlert(ctx, a); err != nil && ctx.Err() == nil && !logged {
			e.Logger.Error("play alert; alerts are shown only", "err", err)
			logged = true
		}
	}
}

// PlayAlert plays one alert now, unless it is for a hit already
// acknowledged.
func (e *Engine) PlayAlert(ctx context.Context, a Alert) error {
	if e.Player == nil {
		return nil
	}
	switch a.Kind {
	case AlertHit, AlertPastHit, AlertRepeat, AlertOverload:
		if !e.Alerts.Waiting(a.ReadID) {
			return nil
		}
	}
	return e.Player.Play(ctx, a)
}

// QueuedAlerts removes and returns the alerts waiting to be played, most
// urgent first: for tests and for a caller that runs Process without Start.
func (e *Engine) QueuedAlerts() []Alert {
	e.init()
	var out []Alert
	for {
		a, ok := e.queue.pop()
		if !ok {
			return out
		}
		out = append(out, a)
	}
}

// alertQueue holds alerts for the player goroutine; push never blocks.
type alertQueue struct {
	mu   sync.Mutex
	q    []Alert
	wake chan struct{}
}

// urgency orders alerts: hits by priority, part alerts after priority 3
// hits, overload counts and repeats after fresh hits of the same priority.
func urgency(a Alert) int {
	switch a.Kind {
	case AlertLost, AlertRestored:
		return 35
	case AlertRepeat, AlertOverload:
		return a.Priority*10 + 5
	}
	return a.Priority * 10
}

func (q *alertQueue) push(a Alert) {
	q.mu.Lock()
	q.q = append(q.q, a)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *alertQueue) pop() (Alert, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) == 0 {
		return Alert{}, false
	}
	best := 0
	for i, a := range q.q {
		if urgency(a) < urgency(q.q[best]) {
			best = i
		}
	}
	a := q.q[best]
	q.q = append(q.q[:best], q.q[best+1:]...)
	return a, true
}
