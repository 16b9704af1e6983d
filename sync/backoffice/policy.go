package backoffice

import (
	"fmt"
	"strings"
	"time"
)

// Investigation is the class of investigation a search is made for.
type Investigation string

// Investigation classes, in rising seriousness.
const (
	InvestigationNone      Investigation = ""
	InvestigationRoutine   Investigation = "routine"
	InvestigationSerious   Investigation = "serious"
	InvestigationMajor     Investigation = "major"
	InvestigationTerrorism Investigation = "counter-terrorism"
)

// Valid reports whether i is one of the known classes (or none).
func (i Investigation) Valid() bool {
	switch i {
	case InvestigationNone, InvestigationRoutine, InvestigationSerious, InvestigationMajor, InvestigationTerrorism:
		return true
	}
	return false
}

// Tier is an age band of reads with its own access rule.
type Tier int

// Tiers, by the age of the oldest read a search may return.
const (
	TierRecent     Tier = 1 // up to OpenAge: any role that may search
	TierSerious    Tier = 2 // up to SeriousAge: serious, major or counter-terrorism investigations
	TierAuthorised Tier = 3 // up to Retention: major or counter-terrorism with a senior officer's authorisation
)

func (t Tier) String() string {
	switch t {
	case TierRecent:
		return "recent"
	case TierSerious:
		return "serious"
	case TierAuthorised:
		return "authorised"
	}
	return "none"
}

// Role says what a user may do.
type Role struct {
	Search    bool // search reads (subject to the tiers)
	Authorise bool // record authorisations for the oldest tier (senior officers)
	Publish   bool // publish hot lists
	Audit     bool // read the audit log
}

// DefaultRoles are the roles a fresh back office knows.
var DefaultRoles = map[string]Role{
	"analyst":      {Search: true},
	"investigator": {Search: true},
	"senior":       {Search: true, Authorise: true},
	"admin":        {Publish: true, Audit: true},
	"auditor":      {Audit: true},
}

// Policy holds the access rules' values. The zero value is not usable; start
// from DefaultPolicy and change what a force's rules differ in.
type Policy struct {
	Retention  time.Duration // reads older than this are deleted
	OpenAge    time.Duration // TierRecent reaches this far back
	SeriousAge time.Duration // TierSerious reaches this far back
	Roles      map[string]Role
}

// DefaultPolicy is the rule set published by UK forces: two years' retention,
// 90 days for staff whose role allows it, 12 months for serious, major or
// counter-terrorism investigations, two years with a senior officer's
// authorisation for major or counter-terrorism investigations.
func DefaultPolicy() Policy {
	return Policy{
		Retention:  730 * 24 * time.Hour,
		OpenAge:    90 * 24 * time.Hour,
		SeriousAge: 365 * 24 * time.Hour,
		Roles:      DefaultRoles,
	}
}

// Validate checks the values are ordered sensibly.
func (p Policy) Validate() error {
	if p.OpenAge <= 0 || p.SeriousAge < p.OpenAge || p.Retention < p.SeriousAge {
		return fmt.Errorf("%w: policy ages must satisfy 0 < open (%v) <= serious (%v) <= retention (%v)", ErrInvalid, p.OpenAge, p.SeriousAge, p.Retention)
	}
	return nil
}

// SearchRequest is what a user asks for. Purpose and CaseRef are always
// required; Investigation and Authorisation open the older tiers.
type SearchRequest struct {
	Version       int           `json:"version"`
	VRM           string        `json:"vrm"`
	From          time.Time     `json:"from,omitzero"` // default: now - OpenAge
	To            time.Time     `json:"to,omitzero"`   // default: now
	Purpose       string        `json:"purpose"`
	CaseRef       string        `json:"case_ref"`
	Investigation Investigation `json:"investigation,omitempty"`
	Authorisation string        `json:"authorisation,omitempty"` // id of a recorded authorisation
	Limit         int           `json:"limit,omitempty"`         // default 1000, at most 10000
}

// SearchResponse answers an allowed search.
type SearchResponse struct {
	Version  int          `json:"version"`
	Tier     string       `json:"tier"`
	Count    int          `json:"count"`
	AuditSeq int64        `json:"audit_seq"`
	Reads    []ReadRecord `json:"reads"`
}

// Normalize fills defaults and checks the request's own fields.
func (r *SearchRequest) Normalize(p Policy, now time.Time) error {
	r.VRM = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(r.VRM), " ", ""))
	r.Purpose = strings.TrimSpace(r.Purpose)
	r.CaseRef = strings.TrimSpace(r.CaseRef)
	switch {
	case r.VRM == "" || len(r.VRM) > 16:
		return fmt.Errorf("%w: a search needs a VRM of 1 to 16 characters", ErrInvalid)
	case r.Purpose == "" || len(r.Purpose) > 500:
		return fmt.Errorf("%w: every search needs a purpose", ErrInvalid)
	case r.CaseRef == "" || len(r.CaseRef) > 64:
		return fmt.Errorf("%w: every search needs a case reference", ErrInvalid)
	case !r.Investigation.Valid():
		return fmt.Errorf("%w: investigation %q is not one of routine, serious, major, counter-terrorism", ErrInvalid, r.Investigation)
	}
	if r.To.IsZero() {
		r.To = now
	}
	if r.From.IsZero() {
		r.From = now.Add(-p.OpenAge)
	}
	if !r.From.Before(r.To) {
		return fmt.Errorf("%w: from %s is not before to %s", ErrInvalid, r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	if r.Limit <= 0 {
		r.Limit = 1000
	}
	if r.Limit > 10000 {
		r.Limit = 10000
	}
	return nil
}

// TierOf is the tier a search reaching back to from needs at now.
func (p Policy) TierOf(from, now time.Time) Tier {
	age := now.Sub(from)
	switch {
	case age <= p.OpenAge:
		return TierRecent
	case age <= p.SeriousAge:
		return TierSerious
	}
	return TierAuthorised
}

// Check decides whether user may make the (normalised) search r at now. auth
// is the authorisation r names, nil when it names none or it was not found.
// A refusal wraps ErrForbidden (or ErrInvalid) and says which rule refused.
func (p Policy) Check(u User, r *SearchRequest, auth *Authorisation, now time.Time) (Tier, error) {
	role, ok := p.Roles[u.Role]
	if !ok || !role.Search {
		return 0, fmt.Errorf("%w: role %q may not search reads", ErrForbidden, u.Role)
	}
	if now.Sub(r.From) > p.Retention {
		return 0, fmt.Errorf("%w: reads older than the retention period (%s) are deleted; search from %s or later",
			ErrInvalid, days(p.Retention), now.Add(-p.Retention).Format(time.DateOnly))
	}
	tier := p.TierOf(r.From, now)
	switch tier {
	case TierSerious:
		switch r.Investigation {
		case InvestigationSerious, InvestigationMajor, InvestigationTerrorism:
		default:
			return tier, fmt.Errorf("%w: reads older than %s are searchable only for serious, major or counter-terrorism investigations",
				ErrForbidden, days(p.OpenAge))
		}
	case TierAuthorised:
		switch r.Investigation {
		case InvestigationMajor, InvestigationTerrorism:
		default:
			return tier, fmt.Errorf("%w: reads older than %s are searchable only for major or counter-terrorism investigations",
				ErrForbidden, days(p.SeriousAge))
		}
		switch {
		case r.Authorisation == "":
			return tier, fmt.Errorf("%w: reads older than %s need a senior officer's recorded authorisation", ErrForbidden, days(p.SeriousAge))
		case auth == nil:
			return tier, fmt.Errorf("%w: authorisation %q is not recorded", ErrForbidden, r.Authorisation)
		case auth.CaseRef != r.CaseRef:
			return tier, fmt.Errorf("%w: authorisation %s is for case %s, not %s", ErrForbidden, auth.ID, auth.CaseRef, r.CaseRef)
		case auth.Investigation != InvestigationMajor && auth.Investigation != InvestigationTerrorism:
			return tier, fmt.Errorf("%w: authorisation %s is for a %s investigation", ErrForbidden, auth.ID, auth.Investigation)
		case auth.Investigation != r.Investigation:
			return tier, fmt.Errorf("%w: authorisation %s is for a %s investigation, not %s", ErrForbidden, auth.ID, auth.Investigation, r.Investigation)
		case !now.Before(auth.Expires):
			return tier, fmt.Errorf("%w: authorisation %s expired at %s", ErrForbidden, auth.ID, auth.Expires.Format(time.RFC3339))
		case auth.Granted.After(now):
			return tier, fmt.Errorf("%w: authorisation %s is not yet in force", ErrForbidden, auth.ID)
		}
	}
	return tier, nil
}

func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d/(24*time.Hour))) }
