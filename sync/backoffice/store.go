// Package backoffice is the force's side of sync: the HTTPS service cars
// upload reads, hits and decisions to and download signed hot lists from, and
// the audited, age-tiered search over what they uploaded.
//
// The package holds the service, the access policy and the audit chain; the
// storage technologies live in subpackages (sqlitestore, pgstore) that
// implement [Store]. cmd/anpr-backoffice wires one of them to a [Server].
//
// Access to reads is decided here, in code, by [Policy.Check] before a store
// is asked anything; every search, allowed or refused, is appended to the
// hash-chained audit log with its result count before results are returned.
package backoffice

import (
	"context"
	"errors"
	"time"

	"github.com/ukanpr/anpr/sync/wire"
)

// Errors the service maps to HTTP status codes at its edge.
var (
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("not authenticated")
	ErrForbidden    = errors.New("forbidden")
	ErrInvalid      = errors.New("invalid request")
	ErrConflict     = errors.New("conflict")
)

// Store is what the service needs from storage. Implementations commit each
// call in one transaction.
type Store interface {
	// Ingest stores a batch's items from car, skipping those already held
	// (reads by id; hits by read id and time; decisions by read id, time and
	// officer; overviews by read id), all or nothing.
	Ingest(ctx context.Context, car string, items []wire.Item, received time.Time) (Ingested, error)

	// PublishHotlist stores a new generation of list.
	PublishHotlist(ctx context.Context, list string, entries []wire.Entry, by string, at time.Time) (wire.ListVersion, error)
	// Manifest lists the newest generation of every list.
	Manifest(ctx context.Context) ([]wire.ListVersion, error)
	// HotlistEntries returns the entries of one generation of list (0: the
	// newest), or ErrNotFound.
	HotlistEntries(ctx context.Context, list string, generation int64) ([]wire.Entry, wire.ListVersion, error)

	// SearchReads returns reads of q.VRM captured in [q.From, q.To), newest
	// first, at most q.Limit.
	SearchReads(ctx context.Context, q ReadQuery) ([]ReadRecord, error)

	// AppendAudit appends e to the audit log, filling Seq, Prev and Hash so
	// that the chain stays intact; appends are serialised.
	AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error)
	// AuditLog calls fn for every event in order.
	AuditLog(ctx context.Context, fn func(AuditEvent) error) error

	// AddUser stores a user with the SHA-256 of their token.
	AddUser(ctx context.Context, u User, tokenHash []byte) error
	// UserByToken finds the user whose token hashes to tokenHash, or ErrNotFound.
	UserByToken(ctx context.Context, tokenHash []byte) (User, error)

	// AddAuthorisation records a senior officer's authorisation.
	AddAuthorisation(ctx context.Context, a Authorisation) error
	// Authorisation returns one by id, or ErrNotFound.
	Authorisation(ctx context.Context, id string) (Authorisation, error)

	// Stats counts what is stored.
	Stats(ctx context.Context) (Stats, error)
	// DropReadsBefore deletes reads (and their overviews) captured before t:
	// whole days in PostgreSQL, by dropping partitions.
	DropReadsBefore(ctx context.Context, t time.Time) (int64, error)

	Close() error
}

// Ingested counts what an Ingest did.
type Ingested struct {
	Stored     int
	Duplicates int
}

// ReadQuery selects reads of one VRM in a time range.
type ReadQuery struct {
	VRM      string
	From, To time.Time
	Limit    int
}

// ReadRecord is one read as a search returns it.
type ReadRecord struct {
	ID         string    `json:"id"`
	Car        string    `json:"car"`
	VRM        string    `json:"vrm"`
	Time       time.Time `json:"time"`
	Camera     string    `json:"camera"`
	Confidence float64   `json:"confidence"`
	Fix        string    `json:"fix"`
	Lat        float64   `json:"lat"`
	Lon        float64   `json:"lon"`
	HasPatch   bool      `json:"has_patch"`
}

// User is an authenticated back-office user.
type User struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

// Authorisation is a senior officer's recorded authorisation to search the
// oldest tier for one case.
type Authorisation struct {
	ID            string        `json:"id"`
	CaseRef       string        `json:"case_ref"`
	Investigation Investigation `json:"investigation"`
	Reason        string        `json:"reason"`
	GrantedBy     string        `json:"granted_by"`
	Granted       time.Time     `json:"granted"`
	Expires       time.Time     `json:"expires"`
}

// Stats counts what the back office holds.
type Stats struct {
	Reads     int64     `json:"reads"`
	Hits      int64     `json:"hits"`
	Decisions int64     `json:"decisions"`
	Vehicles  int64     `json:"vehicles"` // distinct VRMs read
	Oldest    time.Time `json:"oldest_read,omitzero"`
	Newest    time.Time `json:"newest_read,omitzero"`
}
