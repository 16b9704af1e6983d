package app

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AlertKind says why an alert sounds.
type AlertKind string

// Alert kinds.
const (
	AlertHit      AlertKind = "hit"       // a live read matched
	AlertPastHit  AlertKind = "past-hit"  // a stored read matched a changed list
	AlertOverload AlertKind = "overload"  // too many unacknowledged hits: a count, once
	AlertLost     AlertKind = "lost"      // a camera, the GPS or the back-office link was lost
	AlertRestored AlertKind = "restored"  // … and is back
	AlertRepeat   AlertKind = "hit-again" // an unacknowledged priority 1–2 hit, again
)

// Alert is what the officer hears and sees for one decision of the policy.
// Speech names the voice clips to say, in order (see the Clip constants and
// PhoneticClips); the player says a tone for Priority first. Text is the
// same words for the screen and the log.
type Alert struct {
	Kind     AlertKind
	ReadID   string // hit, past-hit, hit-again
	VRM      string
	Priority int // 1 (highest) … 9; 0 for part alerts
	Category string
	Part     Part   // lost, restored
	PartID   string // camera id
	Count    int    // overload: unacknowledged hits
	Repeat   int    // hit-again: 1 for the first repeat
	Speech   []string
	Text     string
	Time     time.Time
}

// Player sounds alerts. Play returns when the alert has been played (or
// shown, for a player with no sound card) or ctx is done.
type Player interface {
	Play(ctx context.Context, a Alert) error
}

// Voice clip names the policy uses; a player maps each to a sound. Letters
// and digits use PhoneticClips.
const (
	ClipHit        = "hit"
	ClipPastHit    = "past-hit"
	ClipHits       = "hits"
	ClipWaiting    = "waiting"
	ClipCamera     = "camera"
	ClipGPS        = "gps"
	ClipLink       = "link"
	ClipLost       = "lost"
	ClipRestored   = "restored"
	ClipMany       = "many"
	ClipOfInterest = "vehicle-of-interest" // a category with no clip of its own
)

// categoryClips maps words found in a category to its clip and spoken text;
// the first whose key the normalised category contains wins.
var categoryClips = []struct{ key, clip, text string }{
	{"stolen", "stolen-vehicle", "Stolen vehicle"},
	{"insur", "no-insurance", "No insurance"},
	{"firearm", "firearms-marker", "Firearms marker"},
	{"weapon", "firearms-marker", "Firearms marker"},
	{"disqual", "disqualified-driver", "Disqualified driver"},
	{"missing", "missing-person", "Missing person"},
	{"drug", "drugs", "Drugs"},
	{"tax", "no-tax", "No tax"},
	{"mot", "no-mot", "No MOT"},
	{"wanted", "wanted", "Wanted"},
	{"intel", "intelligence", "Intelligence"},
}

// CategoryClip returns the clip and spoken text for a hot-list category:
// "STOLEN", "stolen-vehicle" and "Stolen vehicle" all say "Stolen vehicle".
// A category with no clip says "Vehicle of interest".
func CategoryClip(category string) (clip, text string) {
	c := strings.ToLower(category)
	for _, k := range categoryClips {
		if strings.Contains(c, k.key) {
			return k.clip, k.text
		}
	}
	return ClipOfInterest, "Vehicle of interest"
}

// natoWords are the NATO phonetic alphabet, as UK police read marks.
var natoWords = [26]string{"Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf",
	"Hotel", "India", "Juliet", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec",
	"Romeo", "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu"}

var digitWords = [10]string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"}

// numberWords say the counts of an overload alert.
var numberWords = [...]string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight",
	"Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen",
	"Eighteen", "Nineteen", "Twenty"}

// AllClips returns the name of every voice clip the policy may ask a player
// to say, sorted and without duplicates: a player's sound set must hold them
// all.
func AllClips() []string {
	set := map[string]bool{ClipHit: true, ClipPastHit: true, ClipHits: true, ClipWaiting: true,
		ClipCamera: true, ClipGPS: true, ClipLink: true, ClipLost: true, ClipRestored: true,
		ClipMany: true, ClipOfInterest: true}
	for _, k := range categoryClips {
		set[k.clip] = true
	}
	for _, w := range natoWords {
		set[strings.ToLower(w)] = true
	}
	for _, w := range numberWords {
		set[strings.ToLower(w)] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// PhoneticClips returns the clip names and the words that read a mark out:
// "AB12CDE" → [alpha bravo one two charlie delta echo]. Characters other than
// letters and digits are skipped.
func PhoneticClips(vrm string) (clips []string, words []string) {
	for _, r := range strings.ToUpper(vrm) {
		var w string
		switch {
		case r >= 'A' && r <= 'Z':
			w = natoWords[r-'A']
		case r >= '0' && r <= '9':
			w = digitWords[r-'0']
		default:
			continue
		}
		words = append(words, w)
		clips = append(clips, strings.ToLower(w))
	}
	return clips, words
}

// NumberClip returns the clip and word for a count: "one" … "twenty", then "many".
func NumberClip(n int) (clip, word string) {
	if n >= 0 && n < len(numberWords) {
		return strings.ToLower(numberWords[n]), numberWords[n]
	}
	return ClipMany, "Many"
}

// Defaults for an AlertPolicy's zero fields.
const (
	DefaultRepeatEvery = 30 * time.Second
	DefaultSameVRM     = 5 * time.Minute
	DefaultSpeakUpTo   = 3
	DefaultRepeatUpTo  = 2
	DefaultMaxUnacked  = 3
)

// AlertPolicy decides which hits and part changes the officer hears, how,
// and how often. It only decides: the engine plays what it returns. It is
// safe for concurrent use. Set the fields before first use.
type AlertPolicy struct {
	// Now returns the current time (time.Now when nil).
	Now func() time.Time
	// RepeatEvery is how often an unacknowledged hit of priority up to
	// RepeatUpTo sounds again (DefaultRepeatEvery when 0).
	RepeatEvery time.Duration
	// SameVRM: a VRM that alerted is not alerted again within this window
	// (DefaultSameVRM when 0; negative: always alert).
	SameVRM time.Duration
	// SpeakUpTo: hits of this priority or higher are read out (DefaultSpeakUpTo when 0).
	SpeakUpTo int
	// RepeatUpTo: hits of this priority or higher repeat until acknowledged
	// (DefaultRepeatUpTo when 0; negative: never).
	RepeatUpTo int
	// MaxUnacked: with this many hits unacknowledged, a further hit that is
	// not more urgent than all of them is announced as a count, once, and
	// only the most urgent hit repeats (DefaultMaxUnacked when 0).
	MaxUnacked int

	mu      sync.Mutex
	lastVRM map[string]time.Time
	unacked map[string]*unackedHit
	parts   map[string]PartState
}

// unackedHit is a hit still waiting for the officer.
type unackedHit struct {
	alert   Alert // the first alert, repeated as it was
	raised  time.Time
	next    time.Time // next repeat; zero: does not repeat
	repeats int
}

func (p *AlertPolicy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func orDefault[T int | time.Duration](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

func (p *AlertPolicy) init() {
	if p.lastVRM == nil {
		p.lastVRM = map[string]time.Time{}
		p.unacked = map[string]*unackedHit{}
		p.parts = map[string]PartState{}
	}
}

// Hit decides the alert for a hit on read r (live, or past when h.Past). It
// returns nil when the officer must not hear it: every match covert, or the
// same VRM alerted within SameVRM. The hit counts as unacknowledged until
// Ack. Hits that alert by count (overload) are unacknowledged too but never
// repeat.
func (p *AlertPolicy) Hit(r Read, h Hit) *Alert {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	now := p.now()
	vis := VisibleMatches(h.Matches)
	if len(vis) == 0 {
		return nil // covert: the back office hears of it, the car does not
	}
	if _, ok := p.unacked[r.ID]; ok {
		return nil // already alerted (a past hit adding to a live one)
	}
	if win := orDefault(p.SameVRM, DefaultSameVRM); win > 0 {
		if t, ok := p.lastVRM[r.VRM]; ok && now.Sub(t) < win && now.Sub(t) >= 0 {
			return nil
		}
	}
	p.lastVRM[r.VRM] = now
	if len(p.lastVRM) > 1024 { // a long shift: forget marks outside the window
		for v, t := range p.lastVRM {
			if now.Sub(t) >= orDefault(p.SameVRM, DefaultSameVRM) {
				delete(p.lastVRM, v)
			}
		}
	}
	best := vis[0]
	for _, m := range vis[1:] {
		if m.Entry.Priority < best.Entry.Priority {
			best = m
		}
	}
	prio := best.Entry.Priority
	if prio < 1 {
		prio = 9
	}
	a := hitAlert(r, best, prio, h.Past, orDefault(p.SpeakUpTo, DefaultSpeakUpTo), now)
	u := &unackedHit{alert: a, raised: now}
	maxU := orDefault(p.MaxUnacked, DefaultMaxUnacked)
	if len(p.unacked) >= maxU && !p.moreUrgentThanAll(prio) {
		n := len(p.unacked) + 1
		clip, word := NumberClip(n)
		a = Alert{Kind: AlertOverload, ReadID: r.ID, VRM: r.VRM, Priority: prio,
			Category: a.Category, Count: n, Time: now,
			Speech: []string{clip, ClipHits, ClipWaiting},
			Text:   word + " hits waiting."}
	} else if !h.Past && prio <= p.repeatUpTo() {
		u.next = now.Add(orDefault(p.RepeatEvery, DefaultRepeatEvery))
	}
	p.unacked[r.ID] = u
	return &a
}

func (p *AlertPolicy) repeatUpTo() int {
	if p.RepeatUpTo < 0 {
		return 0
	}
	return orDefault(p.RepeatUpTo, DefaultRepeatUpTo)
}

// moreUrgentThanAll reports whether priority prio beats every unacknowledged hit.
func (p *AlertPolicy) moreUrgentThanAll(prio int) bool {
	for _, u := range p.unacked {
		if u.alert.Priority <= prio {
			return false
		}
	}
	return true
}

// hitAlert builds the full alert for a hit: "Hit. Stolen vehicle. Alpha …".
func hitAlert(r Read, m Match, prio int, past bool, speakUpTo int, now time.Time) Alert {
	catClip, catText := CategoryClip(m.Entry.Category)
	kind, head, headText := AlertHit, ClipHit, "Hit."
	if past {
		kind, head, headText = AlertPastHit, ClipPastHit, "Past hit."
	}
	a := Alert{Kind: kind, ReadID: r.ID, VRM: r.VRM, Priority: prio, Category: m.Entry.Category, Time: now}
	clips, words := PhoneticClips(r.VRM)
	a.Text = headText + " " + catText + ". " + strings.Join(words, " ") + "."
	if prio <= speakUpTo {
		a.Speech = append([]string{head, catClip}, clips...)
	}
	return a
}

// Ack records that the officer acknowledged the hit on readID; it stops its
// repeats. It reports whether the hit was waiting.
func (p *AlertPolicy) Ack(readID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	_, ok := p.unacked[readID]
	delete(p.unacked, readID)
	return ok
}

// Waiting reports whether the hit on readID is still unacknowledged.
func (p *AlertPolicy) Waiting(readID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.unacked[readID]
	return ok
}

// Unacked returns how many hits wait for the officer.
func (p *AlertPolicy) Unacked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.unacked)
}

// Due returns the repeats due at the policy's now, most urgent first, and
// schedules the next ones. While overloaded (MaxUnacked or more waiting)
// only the most urgent due hit repeats; the others wait their turn.
func (p *AlertPolicy) Due() []Alert {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	now := p.now()
	var due []*unackedHit
	for _, u := range p.unacked {
		if !u.next.IsZero() && !now.Before(u.next) {
			due = append(due, u)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if due[i].alert.Priority != due[j].alert.Priority {
			return due[i].alert.Priority < due[j].alert.Priority
		}
		return due[i].raised.Before(due[j].raised)
	})
	every := orDefault(p.RepeatEvery, DefaultRepeatEvery)
	if len(p.unacked) >= orDefault(p.MaxUnacked, DefaultMaxUnacked) && len(due) > 1 {
		for _, u := range due[1:] {
			u.next = now.Add(every)
		}
		due = due[:1]
	}
	out := make([]Alert, 0, len(due))
	for _, u := range due {
		u.repeats++
		u.next = now.Add(every)
		a := u.alert
		a.Kind, a.Repeat, a.Time = AlertRepeat, u.repeats, now
		out = append(out, a)
	}
	return out
}

// NextDue returns when the next repeat falls due; ok is false when none will.
func (p *AlertPolicy) NextDue() (t time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.unacked {
		if !u.next.IsZero() && (!ok || u.next.Before(t)) {
			t, ok = u.next, true
		}
	}
	return t, ok
}

// PartChanged decides the alert for a part's new state: a camera, the GPS
// or the back-office link that is lost is announced once, and once again
// when it is restored. The first report of a part that is working says
// nothing; other parts and other changes (ok ↔ degraded) say nothing.
func (p *AlertPolicy) PartChanged(s PartStatus) *Alert {
	var clip, name string
	switch s.Part {
	case PartCamera:
		clip, name = ClipCamera, "Camera"
		if s.ID != "" {
			name += " " + s.ID
		}
	case PartGPS:
		clip, name = ClipGPS, "GPS"
	case PartSync:
		clip, name = ClipLink, "Link"
	default:
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	if s.State == StateUnknown || s.State == "" {
		return nil // says nothing either way: keep what we knew
	}
	k := s.key()
	old, seen := p.parts[k]
	lost := s.State == StateLost
	p.parts[k] = s.State
	wasLost := seen && old == StateLost
	switch {
	case lost && !wasLost:
		return &Alert{Kind: AlertLost, Part: s.Part, PartID: s.ID, Time: p.now(),
			Speech: []string{clip, ClipLost}, Text: name + " lost."}
	case !lost && wasLost:
		return &Alert{Kind: AlertRestored, Part: s.Part, PartID: s.ID, Time: p.now(),
			Speech: []string{clip, ClipRestored}, Text: name + " restored."}
	}
	return nil
}

// String renders an alert for logs: its kind and text.
func (a Alert) String() string {
	s := string(a.Kind) + ": " + a.Text
	if a.Repeat > 0 {
		s += " (repeat " + strconv.Itoa(a.Repeat) + ")"
	}
	return s
}
