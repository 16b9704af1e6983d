package app

import (
	"errors"
	"time"
)

// Outcome is an officer's decision on a hit.
type Outcome string

// Outcomes an officer can record.
const (
	OutcomeConfirmed  Outcome = "confirmed"
	OutcomeMisread    Outcome = "misread"
	OutcomeNotStopped Outcome = "not-stopped"
	OutcomeOther      Outcome = "other"
)

// Valid reports whether o is one of the known outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeConfirmed, OutcomeMisread, OutcomeNotStopped, OutcomeOther:
		return true
	}
	return false
}

// Hit is a read that matched one or more hot-list entries.
type Hit struct {
	ReadID  string
	Time    time.Time // when the hit was raised (may be later than the read: past hits)
	Past    bool      // raised by re-checking stored reads against a changed list
	Matches []Match
}

// Decision is what the officer did about a hit.
type Decision struct {
	ReadID  string
	Outcome Outcome
	Reason  string // required for OutcomeOther
	Officer string
	Time    time.Time
}

// Validate checks a decision is complete.
func (d Decision) Validate() error {
	switch {
	case d.ReadID == "":
		return errors.New("decision has no read id")
	case !d.Outcome.Valid():
		return errors.New("decision outcome " + string(d.Outcome) + " is not one of confirmed, misread, not-stopped, other")
	case d.Outcome == OutcomeOther && d.Reason == "":
		return errors.New("decision 'other' needs a reason")
	case d.Officer == "":
		return errors.New("decision has no officer")
	case d.Time.IsZero():
		return errors.New("decision has no time")
	}
	return nil
}

// Officer is the person logged on in the car.
type Officer struct {
	ID   string // collar number or force id
	Name string
}

// AuditEvent records an officer or admin action in the car.
type AuditEvent struct {
	Time   time.Time
	Actor  string // officer id, "admin", or "system"
	Action string // e.g. "logon", "hotlist.import", "decision", "wanted.add"
	Detail string
}
