package app

import "time"

// OutboxKind is what an outbox item carries to the back office. Items drain
// in this order: hits and decisions first, then reads with plate patches,
// overview images last.
type OutboxKind string

// Outbox kinds, in drain order.
const (
	OutboxHit      OutboxKind = "hit"
	OutboxDecision OutboxKind = "decision"
	OutboxWanted   OutboxKind = "wanted" // an entry an officer added in the car
	OutboxRead     OutboxKind = "read"   // the read with its plate patch
	OutboxOverview OutboxKind = "overview"
)

// OutboxItem is one unit of work for the uplink. Exactly one of the pointer
// fields is set, according to Kind; for OutboxOverview, Read carries only ID
// and Overview.
type OutboxItem struct {
	Seq      int64
	Kind     OutboxKind
	Queued   time.Time
	Read     *Read
	Hit      *Hit
	Decision *Decision
	Wanted   *HotlistEntry
	Bytes    int // approximate payload size
}

// OutboxStats describes the queue waiting for the back office.
type OutboxStats struct {
	Pending       int
	PendingBytes  int64
	OldestPending time.Time // zero when empty
	LastAck       time.Time // zero when never
}
