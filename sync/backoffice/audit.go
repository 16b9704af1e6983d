package backoffice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// AuditEvent is one entry of the append-only audit log. Each entry's Hash
// covers its fields and the previous entry's hash, so editing, deleting or
// reordering any row breaks the chain from that row on.
type AuditEvent struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`  // user name, car id, or "system"
	Action string    `json:"action"` // e.g. "search", "search.refused", "hotlist.publish"
	Detail string    `json:"detail"` // JSON
	Prev   string    `json:"prev"`   // hex SHA-256 of the previous entry; "" for the first
	Hash   string    `json:"hash"`
}

// ChainHash is the hash of e given the previous entry's hash. Stores call it
// inside the transaction that appends e.
func ChainHash(prev string, e AuditEvent) string {
	h := sha256.New()
	for _, f := range []string{prev, strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Detail} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditReport is the outcome of VerifyAudit.
type AuditReport struct {
	Events int64  `json:"events"`
	Head   string `json:"head"` // hash of the last entry: record it elsewhere to detect truncation
	OK     bool   `json:"ok"`
	BadSeq int64  `json:"bad_seq,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// VerifyAudit walks the whole audit log and checks the chain: sequence
// numbers without gaps, each Prev equal to the previous Hash, each Hash
// recomputed. It reports the first entry that breaks.
func VerifyAudit(ctx context.Context, s Store) (AuditReport, error) {
	var r AuditReport
	prev := ""
	var want int64 = 1
	err := s.AuditLog(ctx, func(e AuditEvent) error {
		if !r.OK && r.BadSeq != 0 {
			return nil
		}
		bad := ""
		switch {
		case e.Seq != want:
			bad = fmt.Sprintf("sequence %d follows %d: entries are missing", e.Seq, want-1)
		case e.Prev != prev:
			bad = "previous-hash link does not match the entry before"
		case ChainHash(prev, e) != e.Hash:
			bad = "hash does not match the entry's contents: the entry was edited"
		}
		if bad != "" {
			r.BadSeq, r.Reason = e.Seq, bad
			return nil
		}
		r.Events++
		prev, want = e.Hash, e.Seq+1
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("read audit log: %w", err)
	}
	r.Head = prev
	r.OK = r.BadSeq == 0
	return r, nil
}
