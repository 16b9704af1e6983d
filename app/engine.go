package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
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
//	                                       oldest event, counted, Wake signalled; unacknowledged
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

// matchKey identifies the entry a match is on.
func matchKey(m Match) string {
	if m.Entry.ID != 0 {
		return fmt.Sprint(m.Entry.ID)
	}
	return m.Entry.List + "\x00" + m.Entry.VRM
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
