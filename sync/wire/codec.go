package wire

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"
)

// EncodeBatch writes b as gzip-compressed JSON, setting its version.
func EncodeBatch(w io.Writer, b *Batch) error {
	b.Version = Version
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(zw).Encode(b); err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress batch: %w", err)
	}
	return nil
}

// CheckContentType reports ErrContentType unless the media type of header
// value ct is want (parameters such as charset are ignored).
func CheckContentType(ct, want string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != want {
		if ct == "" {
			ct = "none"
		}
		return fmt.Errorf("%w: %s, want %s", ErrContentType, ct, want)
	}
	return nil
}

// DecodeBatch reads a batch from body as the back office receives it:
// contentType must be BatchContentType and contentEncoding "gzip" (or empty
// for an uncompressed body). The body is read through limits and the batch is
// validated whole, so a nil error means every item may be stored.
func DecodeBatch(body io.Reader, contentType, contentEncoding string) (*Batch, error) {
	if err := CheckContentType(contentType, BatchContentType); err != nil {
		return nil, err
	}
	raw, err := readLimited(body, MaxBatchCompressed)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrMalformed, err)
		}
		raw, err = readLimited(zr, MaxBatchInflated)
		if err != nil {
			return nil, err
		}
	case "", "identity":
	default:
		return nil, fmt.Errorf("%w: content encoding %q, want gzip", ErrContentType, contentEncoding)
	}
	return ParseBatch(raw)
}

// ParseBatch parses and validates an uncompressed batch.
func ParseBatch(raw []byte) (*Batch, error) {
	var b Batch
	if err := parseVersioned(raw, &b, func() int { return b.Version }); err != nil {
		return nil, err
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// checkVersion looks only at the version field, so that a message of a
// version this package does not know is named as such rather than as
// malformed.
func checkVersion(raw []byte) error {
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if v.Version == nil {
		return fmt.Errorf("%w: no version field", ErrMalformed)
	}
	if *v.Version != Version {
		return fmt.Errorf("%w: version %d, this back office speaks version %d", ErrVersion, *v.Version, Version)
	}
	return nil
}

// parseVersioned parses raw strictly into v in one pass; only when that
// fails, or the version is not ours, does it look at the version alone, so
// that a message of another version is named as such, not as malformed.
func parseVersioned(raw []byte, v any, version func() int) error {
	if err := strictUnmarshal(raw, v); err != nil {
		if verr := checkVersion(raw); verr != nil && !errors.Is(verr, ErrMalformed) {
			return verr
		}
		return err
	}
	if n := version(); n != Version {
		return checkVersion(raw)
	}
	return nil
}

func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the message", ErrMalformed)
	}
	return nil
}

// readLimited reads all of r, or fails with ErrTooLarge past max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %v", ErrMalformed, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return data, nil
}

// Validate checks every item of b against the limits and the rules of its
// kind. It returns the first problem, naming the item's index.
func (b *Batch) Validate() error {
	if b.Version != Version {
		return fmt.Errorf("%w: version %d", ErrVersion, b.Version)
	}
	if len(b.Items) > MaxBatchItems {
		return fmt.Errorf("%w: %d items, at most %d", ErrTooLarge, len(b.Items), MaxBatchItems)
	}
	if err := text("batch id", b.ID, MaxTextLen, false); err != nil {
		return err
	}
	if err := text("car", b.Car, MaxTextLen, false); err != nil {
		return err
	}
	for i := range b.Items {
		if err := b.Items[i].Validate(); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	return nil
}

// Validate checks one item.
func (it *Item) Validate() error {
	set := 0
	for _, p := range []bool{it.Read != nil, it.Overview != nil, it.Hit != nil, it.Decision != nil, it.Wanted != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("%w: %s item must carry exactly one payload, has %d", ErrMalformed, it.Kind, set)
	}
	switch it.Kind {
	case KindRead:
		if it.Read == nil {
			return fmt.Errorf("%w: read item without read", ErrMalformed)
		}
		return it.Read.Validate()
	case KindOverview:
		if it.Overview == nil {
			return fmt.Errorf("%w: overview item without overview", ErrMalformed)
		}
		if err := text("overview read id", it.Overview.ReadID, MaxTextLen, true); err != nil {
			return err
		}
		if len(it.Overview.JPEG) > MaxOverviewBytes {
			return fmt.Errorf("%w: overview of %d bytes, at most %d", ErrTooLarge, len(it.Overview.JPEG), MaxOverviewBytes)
		}
		return nil
	case KindHit:
		if it.Hit == nil {
			return fmt.Errorf("%w: hit item without hit", ErrMalformed)
		}
		return it.Hit.Validate()
	case KindDecision:
		if it.Decision == nil {
			return fmt.Errorf("%w: decision item without decision", ErrMalformed)
		}
		return it.Decision.Validate()
	case KindWanted:
		if it.Wanted == nil {
			return fmt.Errorf("%w: wanted item without entry", ErrMalformed)
		}
		return it.Wanted.Validate()
	}
	return fmt.Errorf("%w: unknown item kind %q", ErrMalformed, it.Kind)
}

// Validate checks a read.
func (r *Read) Validate() error {
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"read id", r.ID, true}, {"vrm", r.VRM, true}, {"raw", r.Raw, false}, {"format", r.Format, false},
		{"clock source", r.ClockSource, false}, {"camera", r.Camera, false}, {"pass id", r.PassID, false},
		{"fix", r.Position.Fix, false},
	} {
		if err := text(f.name, f.v, MaxTextLen, f.required); err != nil {
			return err
		}
	}
	if r.Time.IsZero() {
		return fmt.Errorf("%w: read %s has no time", ErrMalformed, r.ID)
	}
	if len(r.Patch) > MaxPatchBytes {
		return fmt.Errorf("%w: read %s patch of %d bytes, at most %d", ErrTooLarge, r.ID, len(r.Patch), MaxPatchBytes)
	}
	if len(r.Candidates) > MaxCandidates {
		return fmt.Errorf("%w: read %s has %d candidates, at most %d", ErrTooLarge, r.ID, len(r.Candidates), MaxCandidates)
	}
	for _, c := range r.Candidates {
		if err := text("candidate", c.Text, MaxTextLen, false); err != nil {
			return err
		}
	}
	if len(r.CharConfidences) > MaxTextLen {
		return fmt.Errorf("%w: read %s has %d character confidences", ErrTooLarge, r.ID, len(r.CharConfidences))
	}
	if r.Position.Lat < -90 || r.Position.Lat > 90 || r.Position.Lon < -180 || r.Position.Lon > 180 {
		return fmt.Errorf("%w: read %s position %v,%v out of range", ErrMalformed, r.ID, r.Position.Lat, r.Position.Lon)
	}
	return nil
}

// Validate checks a hit.
func (h *Hit) Validate() error {
	if err := text("hit read id", h.ReadID, MaxTextLen, true); err != nil {
		return err
	}
	if err := text("hit vrm", h.VRM, MaxTextLen, false); err != nil {
		return err
	}
	if h.Time.IsZero() {
		return fmt.Errorf("%w: hit on read %s has no time", ErrMalformed, h.ReadID)
	}
	if len(h.Matches) > 100 {
		return fmt.Errorf("%w: hit on read %s has %d matches", ErrTooLarge, h.ReadID, len(h.Matches))
	}
	for i := range h.Matches {
		if err := h.Matches[i].Entry.Validate(); err != nil {
			return fmt.Errorf("hit on read %s match %d: %w", h.ReadID, i, err)
		}
	}
	return nil
}

// Validate checks a decision.
func (d *Decision) Validate() error {
	if err := text("decision read id", d.ReadID, MaxTextLen, true); err != nil {
		return err
	}
	if err := text("officer", d.Officer, MaxTextLen, true); err != nil {
		return err
	}
	if err := text("reason", d.Reason, MaxLongTextLen, false); err != nil {
		return err
	}
	switch d.Outcome {
	case "confirmed", "misread", "not-stopped", "other":
	default:
		return fmt.Errorf("%w: decision outcome %q is not one of confirmed, misread, not-stopped, other", ErrMalformed, d.Outcome)
	}
	if d.Time.IsZero() {
		return fmt.Errorf("%w: decision on read %s has no time", ErrMalformed, d.ReadID)
	}
	return nil
}

// Validate checks a hot-list entry.
func (e *Entry) Validate() error {
	for _, f := range []struct {
		name, v  string
		max      int
		required bool
	}{
		{"list", e.List, MaxTextLen, false}, {"vrm", e.VRM, MaxTextLen, true}, {"category", e.Category, MaxTextLen, false},
		{"action", e.Action, MaxLongTextLen, false}, {"information", e.Information, MaxLongTextLen, false},
		{"make", e.Make, MaxTextLen, false}, {"model", e.Model, MaxTextLen, false}, {"colour", e.Colour, MaxTextLen, false},
		{"reference", e.Reference, MaxTextLen, false}, {"added by", e.AddedBy, MaxTextLen, false},
	} {
		if err := text(f.name, f.v, f.max, f.required); err != nil {
			return err
		}
	}
	if e.Priority < 0 || e.Priority > 9 {
		return fmt.Errorf("%w: entry %s priority %d, want 1..9", ErrMalformed, e.VRM, e.Priority)
	}
	if len(e.Markers) > 32 {
		return fmt.Errorf("%w: entry %s has %d markers", ErrTooLarge, e.VRM, len(e.Markers))
	}
	for _, m := range e.Markers {
		if err := text("marker", m, MaxTextLen, false); err != nil {
			return err
		}
	}
	return nil
}

// text checks a string field: valid UTF-8, no control characters, at most
// max bytes, present when required.
func text(name, v string, max int, required bool) error {
	switch {
	case required && v == "":
		return fmt.Errorf("%w: %s is empty", ErrMalformed, name)
	case len(v) > max:
		return fmt.Errorf("%w: %s of %d bytes, at most %d", ErrTooLarge, name, len(v), max)
	case !utf8.ValidString(v):
		return fmt.Errorf("%w: %s is not UTF-8", ErrMalformed, name)
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			return fmt.Errorf("%w: %s has control characters", ErrMalformed, name)
		}
	}
	return nil
}

// UTC truncates t to milliseconds in UTC, the resolution every message uses.
func UTC(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
