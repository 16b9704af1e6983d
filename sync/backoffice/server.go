package backoffice

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ukanpr/anpr/sync/wire"
)

// Server is the back office's HTTP API. Build one with NewServer, set its
// fields, and serve Handler.
type Server struct {
	Store      Store
	Policy     Policy
	SigningKey ed25519.PrivateKey // signs downloaded hot lists
	Now        func() time.Time
	Logger     *slog.Logger
	// InsecureCarHeader, for development without TLS only: take the car's
	// name from the X-ANPR-Car header instead of its client certificate.
	InsecureCarHeader bool
	// MaxClockSkew bounds how far in the future a read may be stamped.
	MaxClockSkew time.Duration
}

// NewServer returns a Server with the default policy.
func NewServer(s Store, key ed25519.PrivateKey) *Server {
	return &Server{
		Store: s, SigningKey: key, Policy: DefaultPolicy(), Now: time.Now,
		Logger: slog.Default(), MaxClockSkew: 24 * time.Hour,
	}
}

// Handler routes the API. Every error answer is a wire.Error in JSON.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST /v1/batches", s.car(s.postBatch))
	mux.HandleFunc("GET /v1/hotlists", s.car(s.getManifest))
	mux.HandleFunc("GET /v1/hotlists/{list}", s.car(s.getHotlist))
	mux.HandleFunc("POST /v1/admin/hotlists/{list}", s.user(s.postHotlist))
	mux.HandleFunc("POST /v1/search", s.user(s.postSearch))
	mux.HandleFunc("POST /v1/authorisations", s.user(s.postAuthorisation))
	mux.HandleFunc("GET /v1/audit/verify", s.user(s.getAuditVerify))
	return mux
}

type carKey struct{}
type userKey struct{}

// car authenticates a car by its verified client certificate.
func (s *Server) car(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := ""
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			name = r.TLS.VerifiedChains[0][0].Subject.CommonName
		} else if s.InsecureCarHeader {
			name = r.Header.Get("X-ANPR-Car")
		}
		if name == "" || len(name) > wire.MaxTextLen {
			s.error(w, r, fmt.Errorf("%w: cars must present a client certificate issued by the force CA", ErrUnauthorized))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), carKey{}, name)))
	}
}

// user authenticates a user by bearer token.
func (s *Server) user(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			s.error(w, r, fmt.Errorf("%w: send Authorization: Bearer TOKEN", ErrUnauthorized))
			return
		}
		u, err := s.Store.UserByToken(r.Context(), HashToken(tok))
		if errors.Is(err, ErrNotFound) {
			s.error(w, r, fmt.Errorf("%w: unknown token", ErrUnauthorized))
			return
		} else if err != nil {
			s.error(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

func (s *Server) postBatch(w http.ResponseWriter, r *http.Request) {
	car := r.Context().Value(carKey{}).(string)
	b, err := wire.DecodeBatch(r.Body, r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"))
	if err != nil {
		s.error(w, r, fmt.Errorf("batch from %s: %w", car, err))
		return
	}
	now := s.Now()
	for i, it := range b.Items {
		if it.Read != nil && it.Read.Time.After(now.Add(s.MaxClockSkew)) {
			s.error(w, r, fmt.Errorf("%w: batch from %s item %d: read %s is stamped %s, in the future", wire.ErrMalformed, car, i, it.Read.ID, it.Read.Time.Format(time.RFC3339)))
			return
		}
	}
	res, err := s.Store.Ingest(r.Context(), car, b.Items, now)
	if err != nil {
		s.error(w, r, fmt.Errorf("ingest batch %s from %s: %w", b.ID, car, err))
		return
	}
	s.json(w, http.StatusOK, wire.Ack{Version: wire.Version, BatchID: b.ID, Items: len(b.Items), Stored: res.Stored, Duplicates: res.Duplicates})
}

func (s *Server) getManifest(w http.ResponseWriter, r *http.Request) {
	lists, err := s.Store.Manifest(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if lists == nil {
		lists = []wire.ListVersion{}
	}
	s.json(w, http.StatusOK, wire.Manifest{Version: wire.Version, Lists: lists})
}

// getHotlist answers with the newest generation of a list, signed: a delta
// from ?since=N when that generation is still held, else the full list, or
// 304 when the car is current.
func (s *Server) getHotlist(w http.ResponseWriter, r *http.Request) {
	list := r.PathValue("list")
	var since int64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.error(w, r, fmt.Errorf("%w: since=%q is not a generation number", ErrInvalid, v))
			return
		}
		since = n
	}
	entries, ver, err := s.Store.HotlistEntries(r.Context(), list, 0)
	if err != nil {
		s.error(w, r, fmt.Errorf("hot list %s: %w", list, err))
		return
	}
	if since == ver.Generation {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h := &wire.Hotlist{List: list, Generation: ver.Generation, Published: ver.Published, Entries: entries}
	if since > 0 && since < ver.Generation {
		if base, _, err := s.Store.HotlistEntries(r.Context(), list, since); err == nil {
			h.Base = since
			h.Entries, h.Removed = wire.Delta(base, entries)
		} else if !errors.Is(err, ErrNotFound) {
			s.error(w, r, err)
			return
		}
	}
	if h.Entries == nil {
		h.Entries = []wire.Entry{}
	}
	signed, err := wire.SignHotlist(h, s.SigningKey)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", wire.HotlistContentType)
	if err := wire.EncodeSignedHotlist(w, signed); err != nil {
		s.Logger.Warn("send hot list", "list", list, "err", err)
	}
}

func (s *Server) postHotlist(w http.ResponseWriter, r *http.Request) {
	u := r.Context().Value(userKey{}).(User)
	if !s.Policy.Roles[u.Role].Publish {
		s.error(w, r, fmt.Errorf("%w: role %q may not publish hot lists", ErrForbidden, u.Role))
		return
	}
	list := r.PathValue("list")
	if err := checkListName(list); err != nil {
		s.error(w, r, err)
		return
	}
	p, err := wire.ParsePublish(r.Body, r.Header.Get("Content-Type"))
	if err != nil {
		s.error(w, r, fmt.Errorf("publish %s: %w", list, err))
		return
	}
	ver, err := Publish(r.Context(), s.Store, list, p.Entries, u.Name, s.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.json(w, http.StatusOK, wire.PublishResult{Version: wire.Version, List: list, Generation: ver.Generation, Entries: ver.Entries})
}

// DefaultPriority is given to published entries that name none.
const DefaultPriority = 5

// Publish stores a new generation of list and audits it. VRMs are
// normalised (upper case, no spaces).
func Publish(ctx context.Context, st Store, list string, entries []wire.Entry, by string, now time.Time) (wire.ListVersion, error) {
	if err := checkListName(list); err != nil {
		return wire.ListVersion{}, err
	}
	seen := make(map[string]int, len(entries))
	for i := range entries {
		entries[i].List = list
		entries[i].VRM = strings.ToUpper(strings.ReplaceAll(entries[i].VRM, " ", ""))
		if j, ok := seen[entries[i].VRM]; ok {
			return wire.ListVersion{}, fmt.Errorf("%w: publish hot list %s: entries %d and %d are both %s", ErrInvalid, list, j, i, entries[i].VRM)
		}
		seen[entries[i].VRM] = i
		if entries[i].Priority == 0 {
			entries[i].Priority = DefaultPriority
		}
		if err := entries[i].Validate(); err != nil {
			return wire.ListVersion{}, fmt.Errorf("publish hot list %s entry %d: %w", list, i, err)
		}
	}
	ver, err := st.PublishHotlist(ctx, list, entries, by, now)
	if err != nil {
		return ver, fmt.Errorf("publish hot list %s: %w", list, err)
	}
	if _, err := st.AppendAudit(ctx, AuditEvent{Time: now, Actor: by, Action: "hotlist.publish",
		Detail: detail(map[string]any{"list": list, "generation": ver.Generation, "entries": ver.Entries})}); err != nil {
		return ver, fmt.Errorf("audit hot list publish: %w", err)
	}
	return ver, nil
}

func checkListName(list string) error {
	if list == "" || len(list) > wire.MaxTextLen || strings.ContainsAny(list, "/\\?#% \t\n") {
		return fmt.Errorf("%w: list name %q", ErrInvalid, list)
	}
	return nil
}

func (s *Server) postSearch(w http.ResponseWriter, r *http.Request) {
	u := r.Context().Value(userKey{}).(User)
	var req SearchRequest
	if err := decodeJSON(r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	res, err := Search(r.Context(), s.Store, s.Policy, u, req, s.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.json(w, http.StatusOK, res)
}

// Search checks req against the policy, runs it, and appends it with its
// result count (or its refusal) to the audit log before returning anything.
func Search(ctx context.Context, st Store, p Policy, u User, req SearchRequest, now time.Time) (*SearchResponse, error) {
	if err := req.Normalize(p, now); err != nil {
		return nil, err
	}
	var auth *Authorisation
	if req.Authorisation != "" {
		a, err := st.Authorisation(ctx, req.Authorisation)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err == nil {
			auth = &a
		}
	}
	fields := map[string]any{
		"vrm": req.VRM, "from": req.From, "to": req.To, "purpose": req.Purpose, "case_ref": req.CaseRef,
		"investigation": req.Investigation, "authorisation": req.Authorisation, "role": u.Role,
	}
	tier, refusal := p.Check(u, &req, auth, now)
	fields["tier"] = tier.String()
	if refusal != nil {
		fields["refused"] = refusal.Error()
		if _, err := st.AppendAudit(ctx, AuditEvent{Time: now, Actor: u.Name, Action: "search.refused", Detail: detail(fields)}); err != nil {
			return nil, fmt.Errorf("audit refused search: %w", err)
		}
		return nil, refusal
	}
	reads, err := st.SearchReads(ctx, ReadQuery{VRM: req.VRM, From: req.From, To: req.To, Limit: req.Limit})
	if err != nil {
		return nil, fmt.Errorf("search reads: %w", err)
	}
	fields["results"] = len(reads)
	ev, err := st.AppendAudit(ctx, AuditEvent{Time: now, Actor: u.Name, Action: "search", Detail: detail(fields)})
	if err != nil {
		return nil, fmt.Errorf("audit search: %w", err)
	}
	if reads == nil {
		reads = []ReadRecord{}
	}
	return &SearchResponse{Version: wire.Version, Tier: tier.String(), Count: len(reads), AuditSeq: ev.Seq, Reads: reads}, nil
}

// AuthorisationRequest is a senior officer's authorisation to record.
type AuthorisationRequest struct {
	Version       int           `json:"version"`
	CaseRef       string        `json:"case_ref"`
	Investigation Investigation `json:"investigation"`
	Reason        string        `json:"reason"`
	Expires       time.Time     `json:"expires,omitzero"` // default: 30 days
}

func (s *Server) postAuthorisation(w http.ResponseWriter, r *http.Request) {
	u := r.Context().Value(userKey{}).(User)
	var req AuthorisationRequest
	if err := decodeJSON(r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	a, err := Authorise(r.Context(), s.Store, s.Policy, u, req, s.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.json(w, http.StatusCreated, a)
}

// Authorise records a senior officer's authorisation and audits it.
func Authorise(ctx context.Context, st Store, p Policy, u User, req AuthorisationRequest, now time.Time) (Authorisation, error) {
	if !p.Roles[u.Role].Authorise {
		return Authorisation{}, fmt.Errorf("%w: role %q may not authorise searches; a senior officer must", ErrForbidden, u.Role)
	}
	req.CaseRef = strings.TrimSpace(req.CaseRef)
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case req.CaseRef == "" || len(req.CaseRef) > 64:
		return Authorisation{}, fmt.Errorf("%w: an authorisation needs a case reference", ErrInvalid)
	case req.Reason == "" || len(req.Reason) > 2000:
		return Authorisation{}, fmt.Errorf("%w: an authorisation needs a reason", ErrInvalid)
	case req.Investigation != InvestigationMajor && req.Investigation != InvestigationTerrorism:
		return Authorisation{}, fmt.Errorf("%w: authorisations are only for major or counter-terrorism investigations", ErrInvalid)
	}
	if req.Expires.IsZero() {
		req.Expires = now.Add(30 * 24 * time.Hour)
	}
	if !req.Expires.After(now) {
		return Authorisation{}, fmt.Errorf("%w: expiry is in the past", ErrInvalid)
	}
	a := Authorisation{ID: "auth-" + randomHex(8), CaseRef: req.CaseRef, Investigation: req.Investigation, Reason: req.Reason,
		GrantedBy: u.Name, Granted: now.UTC(), Expires: req.Expires.UTC()}
	if err := st.AddAuthorisation(ctx, a); err != nil {
		return a, fmt.Errorf("record authorisation: %w", err)
	}
	if _, err := st.AppendAudit(ctx, AuditEvent{Time: now, Actor: u.Name, Action: "authorisation.grant", Detail: detail(a)}); err != nil {
		return a, fmt.Errorf("audit authorisation: %w", err)
	}
	return a, nil
}

func (s *Server) getAuditVerify(w http.ResponseWriter, r *http.Request) {
	u := r.Context().Value(userKey{}).(User)
	if !s.Policy.Roles[u.Role].Audit {
		s.error(w, r, fmt.Errorf("%w: role %q may not read the audit log", ErrForbidden, u.Role))
		return
	}
	rep, err := VerifyAudit(r.Context(), s.Store)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.json(w, http.StatusOK, rep)
}

// decodeJSON reads a small JSON request body strictly.
func decodeJSON(r *http.Request, v versioned) error {
	if err := wire.CheckContentType(r.Header.Get("Content-Type"), wire.JSONContentType); err != nil {
		return err
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", wire.ErrMalformed, err)
	}
	if n := v.version(); n != wire.Version {
		return fmt.Errorf("%w: version %d, this back office speaks version %d", wire.ErrVersion, n, wire.Version)
	}
	return nil
}

// versioned is a request body with a version field.
type versioned interface{ version() int }

func (r *SearchRequest) version() int        { return r.Version }
func (r *AuthorisationRequest) version() int { return r.Version }

func (s *Server) json(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", wire.JSONContentType)
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// error maps err to a status code and a wire.Error body. Server faults are
// logged; the client sees only that one happened.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code, name := http.StatusInternalServerError, "internal"
	switch {
	case errors.Is(err, wire.ErrContentType):
		code, name = http.StatusUnsupportedMediaType, "unsupported_media_type"
	case errors.Is(err, wire.ErrVersion):
		code, name = http.StatusBadRequest, "unsupported_version"
	case errors.Is(err, wire.ErrTooLarge):
		code, name = http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, wire.ErrMalformed):
		code, name = http.StatusBadRequest, "malformed"
	case errors.Is(err, ErrInvalid):
		code, name = http.StatusBadRequest, "invalid"
	case errors.Is(err, ErrUnauthorized):
		code, name = http.StatusUnauthorized, "unauthenticated"
	case errors.Is(err, ErrForbidden):
		code, name = http.StatusForbidden, "forbidden"
	case errors.Is(err, ErrNotFound):
		code, name = http.StatusNotFound, "not_found"
	case errors.Is(err, ErrConflict):
		code, name = http.StatusConflict, "conflict"
	}
	msg := err.Error()
	if code == http.StatusInternalServerError {
		if !errors.Is(err, context.Canceled) {
			s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		msg = "internal error; the request was not applied"
	}
	s.json(w, code, wire.Error{Code: name, Message: msg})
}

// NewToken returns a fresh random user token.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "anpr_" + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is what a store keeps of a token.
func HashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func detail(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
