// Package wire holds the versioned messages the car's uplink and the back
// office exchange: batches of outbox items going up, signed hot lists coming
// down, and the acknowledgements and errors in between.
//
// Every message carries a "version" field. A batch travels as JSON, gzip
// compressed, with Content-Type [BatchContentType] and Content-Encoding gzip.
// Decoding is bounded: the compressed body, the inflated body, the number of
// items and every variable-length field have limits, and anything beyond them
// is refused with [ErrTooLarge] before it is stored. An unknown version is
// refused with [ErrVersion]; anything else that does not parse or validate is
// [ErrMalformed]. The back office maps these to 413, 400 and 415/422 at its
// edge; nothing here knows about HTTP status codes.
package wire

import (
	"errors"
	"time"
)

// Version is the message version this package writes and the only one it
// reads.
const Version = 1

// Content types of the messages.
const (
	BatchContentType   = "application/vnd.anpr.batch+json"
	HotlistContentType = "application/vnd.anpr.hotlist+json"
	JSONContentType    = "application/json"
)

// Limits on what a decoder accepts. They are generous for a car's real
// traffic and small enough that a hostile body cannot exhaust memory.
const (
	MaxBatchCompressed = 16 << 20 // bytes on the wire
	MaxBatchInflated   = 64 << 20 // bytes after gunzip
	MaxBatchItems      = 5000
	MaxPatchBytes      = 256 << 10
	MaxOverviewBytes   = 4 << 20
	MaxTextLen         = 64   // VRM, raw text, camera, ids
	MaxLongTextLen     = 2000 // reasons, action and information text
	MaxCandidates      = 16
	MaxHotlistEntries  = 2_000_000
	MaxHotlistBytes    = 512 << 20
)

// Errors a decoder returns; test with errors.Is.
var (
	ErrVersion     = errors.New("unsupported message version")
	ErrTooLarge    = errors.New("message too large")
	ErrMalformed   = errors.New("malformed message")
	ErrContentType = errors.New("unsupported content type")
)

// Kind is what a batch item carries.
type Kind string

// Item kinds; they match app.OutboxKind.
const (
	KindHit      Kind = "hit"
	KindDecision Kind = "decision"
	KindWanted   Kind = "wanted"
	KindRead     Kind = "read"
	KindOverview Kind = "overview"
)

// Batch is one upload from a car. The back office commits all of its items in
// one transaction or none of them, and ignores items it already holds, so a
// batch may be delivered any number of times.
type Batch struct {
	Version int    `json:"version"`
	ID      string `json:"id"`            // random, for logs and the ack
	Car     string `json:"car,omitempty"` // informational; the client certificate names the car
	Sent    Time   `json:"sent"`
	Items   []Item `json:"items"`
}

// Item is one outbox item. Exactly one of the pointers is set, by Kind.
type Item struct {
	Kind     Kind      `json:"kind"`
	Read     *Read     `json:"read,omitempty"`     // KindRead
	Overview *Overview `json:"overview,omitempty"` // KindOverview
	Hit      *Hit      `json:"hit,omitempty"`      // KindHit
	Decision *Decision `json:"decision,omitempty"` // KindDecision
	Wanted   *Entry    `json:"wanted,omitempty"`   // KindWanted
}

// Time is a UTC instant with millisecond resolution, written as RFC 3339.
type Time = time.Time

// Candidate is one OCR reading with its confidence.
type Candidate struct {
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"`
}

// Position is where the car was when it read a plate. Heading and altitude
// are absent when unknown (JSON has no NaN).
type Position struct {
	Fix        string   `json:"fix"`
	Lat        float64  `json:"lat"`
	Lon        float64  `json:"lon"`
	AgeMS      int64    `json:"age_ms"`
	Estimated  bool     `json:"estimated,omitempty"`
	SpeedMPS   float64  `json:"speed_mps"`
	HeadingDeg *float64 `json:"heading_deg,omitempty"`
	HDOP       float64  `json:"hdop,omitempty"`
	Sats       int      `json:"sats,omitempty"`
	AltM       *float64 `json:"alt_m,omitempty"`
}

// Read is one plate read. Its ID is the idempotency key.
type Read struct {
	ID              string      `json:"id"`
	VRM             string      `json:"vrm"`
	Raw             string      `json:"raw"`
	Confidence      float64     `json:"confidence"`
	Candidates      []Candidate `json:"candidates,omitempty"`
	CharConfidences []float64   `json:"char_confidences,omitempty"`
	Format          string      `json:"format,omitempty"`
	Time            Time        `json:"time"`
	ClockSource     string      `json:"clock_source,omitempty"`
	ClockOffsetMS   int64       `json:"clock_offset_ms,omitempty"`
	ClockSuspect    bool        `json:"clock_suspect,omitempty"`
	Camera          string      `json:"camera"`
	Position        Position    `json:"position"`
	Patch           []byte      `json:"patch,omitempty"` // JPEG
	PassID          string      `json:"pass_id,omitempty"`
}

// Overview is the overview frame of a read, sent after the read itself.
type Overview struct {
	ReadID string `json:"read_id"`
	JPEG   []byte `json:"jpeg"`
}

// Match is one hot-list entry a read matched.
type Match struct {
	Kind      string `json:"kind"` // exact, lookalike, wildcard
	Candidate string `json:"candidate"`
	Entry     Entry  `json:"entry"`
}

// Hit is a read that matched; (ReadID, Time) is its idempotency key.
type Hit struct {
	ReadID  string  `json:"read_id"`
	VRM     string  `json:"vrm,omitempty"`
	Time    Time    `json:"time"`
	Past    bool    `json:"past,omitempty"`
	Matches []Match `json:"matches"`
}

// Decision is an officer's decision on a hit; (ReadID, Time, Officer) is its
// idempotency key.
type Decision struct {
	ReadID  string `json:"read_id"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Officer string `json:"officer"`
	Time    Time   `json:"time"`
}

// Entry is one hot-list entry, as published and as added in a car.
type Entry struct {
	List        string   `json:"list,omitempty"`
	VRM         string   `json:"vrm"`
	Category    string   `json:"category,omitempty"`
	Priority    int      `json:"priority,omitempty"`
	Action      string   `json:"action,omitempty"`
	Information string   `json:"information,omitempty"`
	Markers     []string `json:"markers,omitempty"`
	Make        string   `json:"make,omitempty"`
	Model       string   `json:"model,omitempty"`
	Colour      string   `json:"colour,omitempty"`
	Reference   string   `json:"reference,omitempty"`
	Expires     *Time    `json:"expires,omitempty"`
	Covert      bool     `json:"covert,omitempty"`
	AddedBy     string   `json:"added_by,omitempty"`
	Added       *Time    `json:"added,omitempty"`
}

// Ack is the back office's answer to a batch: it is sent only after the
// batch's transaction committed.
type Ack struct {
	Version    int    `json:"version"`
	BatchID    string `json:"batch_id"`
	Items      int    `json:"items"`      // items in the batch
	Stored     int    `json:"stored"`     // newly stored
	Duplicates int    `json:"duplicates"` // already held
}

// Error is the body of every 4xx and 5xx answer.
type Error struct {
	Code    string `json:"code"` // e.g. "bad_request", "unsupported_version"
	Message string `json:"message"`
}
