package app

import "time"

// HotlistEntry is one vehicle of interest on a named list. VRM holds either a
// normalised mark or a pattern (`*` any run, `?` one character).
type HotlistEntry struct {
	ID          int64
	List        string
	VRM         string
	Category    string
	Priority    int // 1 (highest) … 9
	Action      string
	Information string
	Markers     []string
	Make        string
	Model       string
	Colour      string
	Reference   string
	Expires     time.Time // zero: never
	Covert      bool
	AddedBy     string    // officer id for entries added in the car
	Added       time.Time // when loaded or added
}

// IsPattern reports whether the entry is a wildcard pattern.
func (e HotlistEntry) IsPattern() bool {
	for i := 0; i < len(e.VRM); i++ {
		if e.VRM[i] == '*' || e.VRM[i] == '?' {
			return true
		}
	}
	return false
}

// Expired reports whether the entry has expired at t.
func (e HotlistEntry) Expired(t time.Time) bool {
	return !e.Expires.IsZero() && !t.Before(e.Expires)
}

// MatchKind says how a read matched an entry.
type MatchKind string

// Match kinds, best first.
const (
	MatchExact     MatchKind = "exact"     // ✓
	MatchLookalike MatchKind = "lookalike" // ≈ one or two OCR look-alike swaps
	MatchWildcard  MatchKind = "wildcard"  // * pattern
)

// Mark is the symbol the officer sees for a match kind.
func (k MatchKind) Mark() string {
	switch k {
	case MatchExact:
		return "✓"
	case MatchLookalike:
		return "≈"
	case MatchWildcard:
		return "*"
	}
	return "?"
}

// Match is one hot-list entry a read matched, and how.
type Match struct {
	Entry     HotlistEntry
	Kind      MatchKind
	Candidate string // the OCR candidate that matched
	Diff      []int  // positions in Candidate that differ from Entry.VRM (look-alike)
}

// Matcher finds the hot-list entries that any of a read's candidates match at
// time t, ordered by priority then exactness. Expired entries never match.
type Matcher interface {
	Match(candidates []Candidate, t time.Time) ([]Match, error)
}

// WantedListName is the list holding entries officers add in the car.
const WantedListName = "car-wanted"

// MaxWantedTTL bounds the expiry of an entry an officer adds in the car.
const MaxWantedTTL = 100 * 24 * time.Hour
