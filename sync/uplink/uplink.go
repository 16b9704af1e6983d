package uplink

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/sync/wire"
)

// Outbox is the car's queue of items for the back office (app/sqlite.DB).
type Outbox interface {
	// OutboxPending returns the oldest unacknowledged items in drain order,
	// at most limit and (after the first) at most maxBytes of payload.
	OutboxPending(ctx context.Context, limit int, maxBytes int) ([]app.OutboxItem, error)
	// OutboxAck marks items acknowledged; acknowledging twice is harmless.
	OutboxAck(ctx context.Context, seqs []int64, at time.Time) error
	// OutboxStats describes the queue.
	OutboxStats(ctx context.Context) (app.OutboxStats, error)
}

// HotlistStore applies a verified list: afterwards list holds exactly
// entries, and readers saw either the old list or the new one, never half.
type HotlistStore interface {
	ReplaceHotlist(ctx context.Context, list string, entries []app.HotlistEntry) error
}

// LinkState is how the car last found the back office.
type LinkState string

// Link states.
const (
	LinkUnknown LinkState = "unknown" // not tried yet
	LinkUp      LinkState = "up"      // the last exchange succeeded
	LinkDown    LinkState = "down"    // unreachable, timed out or 5xx
	LinkRefused LinkState = "refused" // the back office refused the car (4xx): needs a person
)

// HotlistStatus is the state of one downloaded list.
type HotlistStatus struct {
	Generation int64     `json:"generation"` // applied; 0 when none
	Entries    int       `json:"entries"`
	Applied    time.Time `json:"applied,omitzero"`
	Refused    string    `json:"refused,omitempty"` // why the last download was refused; the old list stays
}

// Status reports the uplink for the UI and the headless status lines.
type Status struct {
	Link          LinkState                `json:"link"`
	Pending       int                      `json:"pending"`
	PendingBytes  int64                    `json:"pending_bytes"`
	OldestPending time.Time                `json:"oldest_pending,omitzero"` // oldest unsent item
	LastAck       time.Time                `json:"last_ack,omitzero"`
	LastError     string                   `json:"last_error,omitempty"`
	Failures      int                      `json:"failures"` // consecutive
	NextAttempt   time.Time                `json:"next_attempt,omitzero"`
	Sent          int64                    `json:"sent"`     // items acknowledged since start
	Rejected      int64                    `json:"rejected"` // items the car could not encode validly; acknowledged and logged
	Hotlists      map[string]HotlistStatus `json:"hotlists,omitempty"`
}

// Errors that classify a failed exchange.
var (
	// ErrRefused: the back office answered 4xx; retrying the same request
	// will not help until someone fixes the car or the back office.
	ErrRefused = errors.New("refused by the back office")
	// ErrStale: a downloaded hot list is not newer than the one in force.
	ErrStale = errors.New("hot list is not newer than the one in force")
)

// StatusError is a non-2xx answer.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("back office answered %d: %s", e.Code, e.Message)
}

// Unwrap makes 4xx answers match ErrRefused.
func (e *StatusError) Unwrap() error {
	if e.Code >= 400 && e.Code < 500 && e.Code != http.StatusRequestTimeout && e.Code != http.StatusTooManyRequests {
		return ErrRefused
	}
	return nil
}

// Client drains an Outbox to the back office at URL and fetches hot lists.
// Set the fields before Start or the first call; NewClient fills defaults.
type Client struct {
	URL        string       // base URL, e.g. https://backoffice.example:8443
	HTTP       *http.Client // with the car's client certificate (see TLSConfig)
	Outbox     Outbox
	Hotlists   HotlistStore      // nil: hot lists are not fetched
	HotlistKey ed25519.PublicKey // the back office's signing key
	StateDir   string            // keeps the applied hot lists, for deltas after a restart; "" keeps them in memory
	Car        string            // informational; the certificate names the car

	BatchItems      int           // items per batch (default 500)
	BatchBytes      int           // payload bytes per batch before compression (default 4 MiB)
	Interval        time.Duration // between drains when idle (default 30s)
	HotlistInterval time.Duration // between hot-list checks (default 5m)
	MinBackoff      time.Duration // first retry delay (default 1s)
	MaxBackoff      time.Duration // longest retry delay (default 5m)

	Now    func() time.Time
	Rand   func() float64 // in [0,1), for jitter
	After  func(time.Duration) <-chan time.Time
	Logger *slog.Logger

	mu        sync.Mutex
	status    Status
	lists     map[string]*listState
	lastHot   time.Time
	notify    chan struct{}
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	syncMu    sync.Mutex // one drain at a time
	hotlistMu sync.Mutex // one hot-list fetch at a time
}

// NewClient returns a client with defaults.
func NewClient(url string, hc *http.Client, ob Outbox) *Client {
	return &Client{URL: url, HTTP: hc, Outbox: ob,
		BatchItems: 500, BatchBytes: 4 << 20, Interval: 30 * time.Second, HotlistInterval: 5 * time.Minute,
		MinBackoff: time.Second, MaxBackoff: 5 * time.Minute,
		Now: time.Now, Rand: mrand.Float64, After: time.After, Logger: slog.Default(),
	}
}

func (c *Client) init() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.notify == nil {
		c.notify = make(chan struct{}, 1)
		c.status.Link = LinkUnknown
		c.status.Hotlists = map[string]HotlistStatus{}
		c.lists = map[string]*listState{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = mrand.Float64
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HTTP == nil {
		c.HTTP = http.DefaultClient
	}
}

// Start runs the sync loop until ctx ends or Stop is called.
func (c *Client) Start(ctx context.Context) {
	c.init()
	ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.loop(ctx)
	}()
}

// Stop cancels the loop and waits for it. An in-flight batch is abandoned
// unacknowledged and will be sent again.
func (c *Client) Stop() {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
}

// Notify tells the loop there is new work; it never blocks.
func (c *Client) Notify() {
	c.init()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *Client) loop(ctx context.Context) {
	for {
		err := c.cycle(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := orDefault(c.Interval, 30*time.Second)
		c.mu.Lock()
		if err != nil {
			c.status.Failures++
			wait = c.backoffLocked(c.status.Failures)
		} else {
			c.status.Failures = 0
		}
		c.status.NextAttempt = c.Now().Add(wait)
		failing := c.status.Failures > 0
		c.mu.Unlock()
		if err != nil {
			c.Logger.Warn("uplink: sync failed; retrying", "in", wait.Round(time.Millisecond), "err", err)
		}
		if !c.wait(ctx, wait, failing) {
			return
		}
	}
}

// wait blocks until the delay has passed or, unless the link is failing (new
// reads do not cut a backoff short), until Notify; false when ctx ended.
func (c *Client) wait(ctx context.Context, d time.Duration, failing bool) bool {
	timer := c.After(d)
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer:
			return true
		case <-c.notify:
			if !failing {
				return true
			}
		}
	}
}

// cycle drains the outbox and, when due, fetches hot lists.
func (c *Client) cycle(ctx context.Context) error {
	if _, err := c.SyncOnce(ctx); err != nil {
		return err
	}
	if c.Hotlists == nil {
		return nil
	}
	c.mu.Lock()
	due := c.lastHot.IsZero() || c.Now().Sub(c.lastHot) >= orDefault(c.HotlistInterval, 5*time.Minute)
	c.mu.Unlock()
	if !due {
		return nil
	}
	if err := c.FetchHotlists(ctx); err != nil && !isListRefusal(err) {
		return err
	}
	c.mu.Lock()
	c.lastHot = c.Now()
	c.mu.Unlock()
	return nil
}

// Backoff is the delay before retry number failures (1 for the first):
// MinBackoff doubled per failure up to MaxBackoff, with the lower half
// jittered so a fleet coming back into coverage does not retry in step.
func (c *Client) Backoff(failures int) time.Duration {
	c.init()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.backoffLocked(failures)
}

func (c *Client) backoffLocked(failures int) time.Duration {
	lo, hi := orDefault(c.MinBackoff, time.Second), orDefault(c.MaxBackoff, 5*time.Minute)
	d := float64(lo) * math.Pow(2, float64(max(failures, 1)-1))
	if d > float64(hi) {
		d = float64(hi)
	}
	return time.Duration(d/2 + d/2*c.Rand())
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Result says what SyncOnce did.
type Result struct {
	Batches    int
	Items      int // acknowledged
	Stored     int // new at the back office
	Duplicates int // the back office already had them
	Rejected   int // could not be encoded validly; acknowledged and logged
}

// SyncOnce drains the outbox until it is empty or an exchange fails.
func (c *Client) SyncOnce(ctx context.Context) (Result, error) {
	c.init()
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	var res Result
	for {
		items, err := c.Outbox.OutboxPending(ctx, max(c.BatchItems, 1), c.BatchBytes)
		if err != nil {
			return res, fmt.Errorf("read outbox: %w", err)
		}
		if len(items) == 0 {
			// Nothing was exchanged, so the link state stays as it was.
			return res, nil
		}
		b, seqs, rejected := c.batch(items)
		if len(b.Items) > 0 {
			ack, err := c.send(ctx, b)
			if err != nil {
				c.setLink(linkFor(err), err)
				return res, err
			}
			res.Batches++
			res.Stored += ack.Stored
			res.Duplicates += ack.Duplicates
		}
		// Only now, with the batch committed at the back office, are its
		// items done in the car.
		all := append(seqs, rejected...)
		if err := c.Outbox.OutboxAck(ctx, all, c.Now()); err != nil {
			return res, fmt.Errorf("acknowledge batch: %w", err)
		}
		res.Items += len(seqs)
		res.Rejected += len(rejected)
		c.mu.Lock()
		c.status.Sent += int64(len(seqs))
		c.status.Rejected += int64(len(rejected))
		c.mu.Unlock()
		c.setLink(LinkUp, nil)
	}
}

// batch converts items; an item that cannot be encoded validly would block the
// queue for ever, so it is set aside (logged, acknowledged) instead.
func (c *Client) batch(items []app.OutboxItem) (*wire.Batch, []int64, []int64) {
	b := &wire.Batch{Version: wire.Version, ID: newID(), Car: c.Car, Sent: wire.UTC(c.Now()), Items: make([]wire.Item, 0, len(items))}
	seqs := make([]int64, 0, len(items))
	var rejected []int64
	for _, it := range items {
		w, err := toWire(it)
		if err == nil {
			err = w.Validate()
		}
		if err != nil {
			c.Logger.Error("uplink: outbox item cannot be sent; setting it aside", "seq", it.Seq, "kind", it.Kind, "err", err)
			rejected = append(rejected, it.Seq)
			continue
		}
		b.Items = append(b.Items, w)
		seqs = append(seqs, it.Seq)
	}
	return b, seqs, rejected
}

// send posts one batch and returns the back office's ack.
func (c *Client) send(ctx context.Context, b *wire.Batch) (*wire.Ack, error) {
	var body bytes.Buffer
	if err := wire.EncodeBatch(&body, b); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/v1/batches", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", wire.BatchContentType)
	req.Header.Set("Content-Encoding", "gzip")
	if c.Car != "" {
		req.Header.Set("X-ANPR-Car", c.Car)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("send batch %s of %d items: %w", b.ID, len(b.Items), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("send batch %s: %w", b.ID, statusError(resp))
	}
	var ack wire.Ack
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&ack); err != nil {
		return nil, fmt.Errorf("send batch %s: read ack: %w", b.ID, err)
	}
	if ack.BatchID != b.ID || ack.Items != len(b.Items) || ack.Stored+ack.Duplicates != len(b.Items) {
		return nil, fmt.Errorf("send batch %s: ack does not match the batch: %+v", b.ID, ack)
	}
	return &ack, nil
}

func statusError(resp *http.Response) error {
	var e wire.Error
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if json.Unmarshal(raw, &e) != nil || e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return &StatusError{Code: resp.StatusCode, Message: e.Message}
}

func linkFor(err error) LinkState {
	if errors.Is(err, ErrRefused) {
		return LinkRefused
	}
	return LinkDown
}

func (c *Client) setLink(l LinkState, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status.Link = l
	if err != nil {
		c.status.LastError = err.Error()
	} else {
		c.status.LastError = ""
	}
}

// Status reports the link, the queue and the hot lists.
func (c *Client) Status(ctx context.Context) (Status, error) {
	c.init()
	st, err := c.Outbox.OutboxStats(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	s.Hotlists = make(map[string]HotlistStatus, len(c.status.Hotlists))
	for k, v := range c.status.Hotlists {
		s.Hotlists[k] = v
	}
	if err != nil {
		return s, fmt.Errorf("outbox stats: %w", err)
	}
	s.Pending, s.PendingBytes, s.OldestPending, s.LastAck = st.Pending, st.PendingBytes, st.OldestPending, st.LastAck
	return s, nil
}

// listState is a list as last applied in the car, kept so a delta can be
// applied to it.
type listState struct {
	Generation int64        `json:"generation"`
	Applied    time.Time    `json:"applied"`
	Entries    []wire.Entry `json:"entries"`
}

// hotlistRefusal marks a list that was downloaded but refused.
type hotlistRefusal struct{ err error }

func (e hotlistRefusal) Error() string { return e.err.Error() }
func (e hotlistRefusal) Unwrap() error { return e.err }

func isListRefusal(err error) bool { var r hotlistRefusal; return errors.As(err, &r) }

// FetchHotlists brings every published list up to date. A list that fails
// verification is refused (the old one stays) and the others still update;
// the first such refusal is returned, wrapping wire.ErrBadSignature,
// wire.ErrUnknownKey, ErrStale or wire.ErrMalformed.
func (c *Client) FetchHotlists(ctx context.Context) error {
	c.init()
	c.hotlistMu.Lock()
	defer c.hotlistMu.Unlock()
	if c.Hotlists == nil {
		return errors.New("fetch hot lists: no hot-list store configured")
	}
	var m wire.Manifest
	if err := c.getJSON(ctx, "/v1/hotlists", &m); err != nil {
		c.setLink(linkFor(err), err)
		return fmt.Errorf("fetch hot-list manifest: %w", err)
	}
	c.setLink(LinkUp, nil)
	var first error
	for _, lv := range m.Lists {
		err := c.fetchList(ctx, lv)
		if err == nil {
			continue
		}
		if !isListRefusal(err) {
			c.setLink(linkFor(err), err)
			return err
		}
		c.Logger.Error("uplink: hot list refused; the old list stays in force", "list", lv.List, "err", err)
		if first == nil {
			first = err
		}
	}
	return first
}

func (c *Client) fetchList(ctx context.Context, lv wire.ListVersion) error {
	st, err := c.loadList(lv.List)
	if err != nil {
		return err
	}
	if st.Generation >= lv.Generation {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		c.URL+"/v1/hotlists/"+url.PathEscape(lv.List)+"?since="+strconv.FormatInt(st.Generation, 10), nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("fetch hot list %s: %w", lv.List, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil
	case http.StatusOK:
	default:
		return fmt.Errorf("fetch hot list %s: %w", lv.List, statusError(resp))
	}
	h, err := wire.DecodeSignedHotlist(resp.Body, c.HotlistKey)
	if err != nil {
		if errors.Is(err, wire.ErrBadSignature) || errors.Is(err, wire.ErrUnknownKey) || errors.Is(err, wire.ErrMalformed) ||
			errors.Is(err, wire.ErrVersion) || errors.Is(err, wire.ErrTooLarge) {
			return c.refuse(lv.List, fmt.Errorf("hot list %s: %w", lv.List, err))
		}
		return fmt.Errorf("fetch hot list %s: %w", lv.List, err)
	}
	return c.apply(ctx, lv.List, st, h)
}

// apply checks a verified list against the one in force and swaps it in.
func (c *Client) apply(ctx context.Context, list string, st *listState, h *wire.Hotlist) error {
	switch {
	case h.List != list:
		return c.refuse(list, fmt.Errorf("hot list %s: %w: download is signed for list %s", list, wire.ErrMalformed, h.List))
	case h.Generation <= st.Generation:
		return c.refuse(list, fmt.Errorf("hot list %s: %w: got generation %d, generation %d is in force (replayed or stale download)",
			list, ErrStale, h.Generation, st.Generation))
	case h.Base != 0 && h.Base != st.Generation:
		return c.refuse(list, fmt.Errorf("hot list %s: %w: delta from generation %d, generation %d is in force",
			list, ErrStale, h.Base, st.Generation))
	}
	next := wire.ApplyDelta(st.Entries, h)
	entries := make([]app.HotlistEntry, 0, len(next))
	for _, e := range next {
		entries = append(entries, EntryFromWire(list, e))
	}
	if err := c.Hotlists.ReplaceHotlist(ctx, list, entries); err != nil {
		return c.refuse(list, fmt.Errorf("hot list %s generation %d: apply: %w", list, h.Generation, err))
	}
	ns := &listState{Generation: h.Generation, Applied: c.Now().UTC(), Entries: next}
	if err := c.saveList(list, ns); err != nil {
		return err
	}
	c.mu.Lock()
	c.lists[list] = ns
	c.status.Hotlists[list] = HotlistStatus{Generation: ns.Generation, Entries: len(next), Applied: ns.Applied}
	c.mu.Unlock()
	c.Logger.Info("uplink: hot list updated", "list", list, "generation", h.Generation, "entries", len(next), "delta", h.Base != 0)
	return nil
}

func (c *Client) refuse(list string, err error) error {
	c.mu.Lock()
	hs := c.status.Hotlists[list]
	hs.Refused = err.Error()
	c.status.Hotlists[list] = hs
	c.mu.Unlock()
	return hotlistRefusal{err}
}

func (c *Client) statePath(list string) string {
	return filepath.Join(c.StateDir, "hotlist-"+hex.EncodeToString([]byte(list))+".json")
}

// loadList returns the list as last applied, from memory or the state file.
func (c *Client) loadList(list string) (*listState, error) {
	c.mu.Lock()
	st, ok := c.lists[list]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st = &listState{}
	if c.StateDir != "" {
		raw, err := os.ReadFile(c.statePath(list))
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("hot list %s state: %w", list, err)
		default:
			if err := json.Unmarshal(raw, st); err != nil {
				c.Logger.Warn("uplink: hot-list state unreadable; downloading the full list", "list", list, "err", err)
				st = &listState{}
			}
		}
	}
	c.mu.Lock()
	c.lists[list] = st
	if st.Generation > 0 {
		c.status.Hotlists[list] = HotlistStatus{Generation: st.Generation, Entries: len(st.Entries), Applied: st.Applied}
	}
	c.mu.Unlock()
	return st, nil
}

// saveList writes the state file atomically. If the car dies between the
// import and this write, the next fetch asks from the older generation and
// applies the same change again: harmless.
func (c *Client) saveList(list string, st *listState) error {
	if c.StateDir == "" {
		return nil
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.StateDir, ".hotlist-*")
	if err != nil {
		return fmt.Errorf("save hot list %s state: %w", list, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("save hot list %s state: %w", list, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save hot list %s state: %w", list, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), c.statePath(list)); err != nil {
		return fmt.Errorf("save hot list %s state: %w", list, err)
	}
	return nil
}

func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
