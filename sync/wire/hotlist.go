package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Hot-list verification errors; test with errors.Is.
var (
	ErrBadSignature = errors.New("hot list signature does not verify")
	ErrUnknownKey   = errors.New("hot list signed by an unknown key")
)

// signContext separates hot-list signatures from any other use of the key.
const signContext = "anpr-hotlist-v1\n"

// SignedHotlist is what a car downloads: a Hotlist, serialised, and the back
// office's Ed25519 signature over it. The car verifies the signature over the
// exact Payload bytes before it parses them.
type SignedHotlist struct {
	Version   int    `json:"version"`
	KeyID     string `json:"key_id"`
	Payload   []byte `json:"payload"` // JSON of Hotlist
	Signature []byte `json:"signature"`
}

// Hotlist is one version of a named list, in full or as a delta from Base.
type Hotlist struct {
	Version    int      `json:"version"`
	List       string   `json:"list"`
	Generation int64    `json:"generation"` // increases with each publish of the list
	Base       int64    `json:"base"`       // 0: full list; else a delta from this generation
	Published  Time     `json:"published"`
	Entries    []Entry  `json:"entries"`           // full: every entry; delta: added or changed
	Removed    []string `json:"removed,omitempty"` // delta: VRMs no longer on the list
}

// Manifest lists the published hot lists and their newest generations.
type Manifest struct {
	Version int           `json:"version"`
	Lists   []ListVersion `json:"lists"`
}

// ListVersion is one published list in a Manifest.
type ListVersion struct {
	List       string `json:"list"`
	Generation int64  `json:"generation"`
	Published  Time   `json:"published"`
	Entries    int    `json:"entries"`
}

// Publish is an admin's request to publish a new generation of a list.
type Publish struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"`
}

// PublishResult answers a Publish.
type PublishResult struct {
	Version    int    `json:"version"`
	List       string `json:"list"`
	Generation int64  `json:"generation"`
	Entries    int    `json:"entries"`
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// SignHotlist serialises h and signs it with key.
func SignHotlist(h *Hotlist, key ed25519.PrivateKey) (*SignedHotlist, error) {
	h.Version = Version
	payload, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode hot list %s: %w", h.List, err)
	}
	msg := append([]byte(signContext), payload...)
	return &SignedHotlist{
		Version:   Version,
		KeyID:     KeyID(key.Public().(ed25519.PublicKey)),
		Payload:   payload,
		Signature: ed25519.Sign(key, msg),
	}, nil
}

// DecodeSignedHotlist reads a signed hot list from body through the limits,
// verifies it with pub and returns the hot list it carries. Nothing in the
// payload is trusted until the signature verifies.
func DecodeSignedHotlist(body io.Reader, pub ed25519.PublicKey) (*Hotlist, error) {
	raw, err := readLimited(body, MaxHotlistBytes)
	if err != nil {
		return nil, err
	}
	var s SignedHotlist
	if err := parseVersioned(raw, &s, func() int { return s.Version }); err != nil {
		return nil, err
	}
	return s.Verify(pub)
}

// Verify checks the signature with pub and parses the payload.
func (s *SignedHotlist) Verify(pub ed25519.PublicKey) (*Hotlist, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: no valid public key configured", ErrUnknownKey)
	}
	if s.KeyID != KeyID(pub) {
		return nil, fmt.Errorf("%w: key %q, this car trusts %q", ErrUnknownKey, s.KeyID, KeyID(pub))
	}
	msg := append([]byte(signContext), s.Payload...)
	if !ed25519.Verify(pub, msg, s.Signature) {
		return nil, ErrBadSignature
	}
	var h Hotlist
	if err := parseVersioned(s.Payload, &h, func() int { return h.Version }); err != nil {
		return nil, err
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return &h, nil
}

// Validate checks a hot list's shape and entries.
func (h *Hotlist) Validate() error {
	if err := text("list", h.List, MaxTextLen, true); err != nil {
		return err
	}
	if h.Generation <= 0 || h.Base < 0 || h.Base >= h.Generation {
		return fmt.Errorf("%w: hot list %s generation %d base %d", ErrMalformed, h.List, h.Generation, h.Base)
	}
	if len(h.Entries)+len(h.Removed) > MaxHotlistEntries {
		return fmt.Errorf("%w: hot list %s has %d entries", ErrTooLarge, h.List, len(h.Entries))
	}
	if h.Base == 0 && len(h.Removed) > 0 {
		return fmt.Errorf("%w: full hot list %s lists removals", ErrMalformed, h.List)
	}
	for i := range h.Entries {
		if err := h.Entries[i].Validate(); err != nil {
			return fmt.Errorf("hot list %s entry %d: %w", h.List, i, err)
		}
	}
	for _, v := range h.Removed {
		if err := text("removed vrm", v, MaxTextLen, true); err != nil {
			return err
		}
	}
	return nil
}

// ParsePublish parses and validates an admin's publish request.
func ParsePublish(body io.Reader, contentType string) (*Publish, error) {
	if err := CheckContentType(contentType, JSONContentType); err != nil {
		return nil, err
	}
	raw, err := readLimited(body, MaxHotlistBytes)
	if err != nil {
		return nil, err
	}
	var p Publish
	if err := parseVersioned(raw, &p, func() int { return p.Version }); err != nil {
		return nil, err
	}
	if len(p.Entries) > MaxHotlistEntries {
		return nil, fmt.Errorf("%w: %d entries", ErrTooLarge, len(p.Entries))
	}
	seen := make(map[string]bool, len(p.Entries))
	for i := range p.Entries {
		if err := p.Entries[i].Validate(); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if seen[p.Entries[i].VRM] {
			return nil, fmt.Errorf("%w: entry %d: vrm %s appears twice", ErrMalformed, i, p.Entries[i].VRM)
		}
		seen[p.Entries[i].VRM] = true
	}
	return &p, nil
}

// ApplyDelta returns the entries of the list after delta d is applied to the
// entries of generation d.Base. Entries are keyed by VRM.
func ApplyDelta(base []Entry, d *Hotlist) []Entry {
	if d.Base == 0 {
		return d.Entries
	}
	drop := make(map[string]bool, len(d.Removed)+len(d.Entries))
	for _, v := range d.Removed {
		drop[v] = true
	}
	for _, e := range d.Entries {
		drop[e.VRM] = true
	}
	out := make([]Entry, 0, len(base)+len(d.Entries))
	for _, e := range base {
		if !drop[e.VRM] {
			out = append(out, e)
		}
	}
	return append(out, d.Entries...)
}

// Delta returns the entries of next that are new or changed against prev,
// and the VRMs of prev that next no longer has.
func Delta(prev, next []Entry) (changed []Entry, removed []string) {
	old := make(map[string][]byte, len(prev))
	for _, e := range prev {
		b, _ := json.Marshal(e)
		old[e.VRM] = b
	}
	keep := make(map[string]bool, len(next))
	for _, e := range next {
		keep[e.VRM] = true
		b, _ := json.Marshal(e)
		if ob, ok := old[e.VRM]; !ok || !bytes.Equal(ob, b) {
			changed = append(changed, e)
		}
	}
	for _, e := range prev {
		if !keep[e.VRM] {
			removed = append(removed, e.VRM)
		}
	}
	return changed, removed
}

// EncodeSignedHotlist writes s as JSON.
func EncodeSignedHotlist(w io.Writer, s *SignedHotlist) error { return encodeJSON(w, s) }

func encodeJSON(w io.Writer, v any) error {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return nil
}
