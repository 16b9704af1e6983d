package uplink_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/storetest"
	"github.com/ukanpr/anpr/sync/uplink"
	"github.com/ukanpr/anpr/sync/wire"
)

func forEachStore(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			if kind == "postgres" {
				storetest.PostgresDSN(t)
			}
			fn(t, kind)
		})
	}
}

// syncUntil calls SyncOnce until the outbox is empty, at most tries times,
// without sleeping: backoff is the loop's business, not SyncOnce's.
func syncUntil(t *testing.T, c *uplink.Client, tries int) (uplink.Result, []error) {
	t.Helper()
	var total uplink.Result
	var errs []error
	for range tries {
		res, err := c.SyncOnce(context.Background())
		total.Batches += res.Batches
		total.Items += res.Items
		total.Stored += res.Stored
		total.Duplicates += res.Duplicates
		if err == nil {
			return total, errs
		}
		errs = append(errs, err)
	}
	t.Fatalf("outbox not drained after %d tries: %v", tries, errs)
	return total, errs
}

func TestDrainInPriorityOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		srv := startServer(t, kind)
		car := openCar(t, filepath.Join(t.TempDir(), "car.db"))
		base := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
		want := seed(t, car, "r", 300, base)
		c := srv.client(t, "car-1", car)

		st, err := c.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Link != uplink.LinkUnknown || st.Pending == 0 || st.OldestPending.IsZero() {
			t.Fatalf("status before sync: %+v", st)
		}
		res, err := c.SyncOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// 300 reads, 60 overviews, 30 hits, 15 decisions.
		if res.Items != 405 || res.Stored != 405 || res.Duplicates != 0 || res.Batches < 5 {
			t.Fatalf("result %+v", res)
		}
		sameIDs(t, want, backofficeIDs(t, srv.Store, base.Add(-time.Hour), time.Now().Add(time.Hour)))
		bs, _ := srv.Store.Stats(context.Background())
		if bs.Hits != 30 || bs.Decisions != 15 || bs.Reads != 300 {
			t.Fatalf("back office stats %+v", bs)
		}
		st, _ = c.Status(context.Background())
		if st.Link != uplink.LinkUp || st.Pending != 0 || !st.OldestPending.IsZero() || st.LastAck.IsZero() || st.Sent != 405 {
			t.Fatalf("status after sync: %+v", st)
		}
		// Synced again: nothing to send.
		if res, err := c.SyncOnce(context.Background()); err != nil || res.Batches != 0 {
			t.Fatalf("second sync %+v %v", res, err)
		}
	})
}

// TestOrderOnWire checks hits and decisions go before reads, overviews last,
// by recording what each batch carried.
func TestOrderOnWire(t *testing.T) {
	srv := startServer(t, "sqlite")
	car := openCar(t, filepath.Join(t.TempDir(), "car.db"))
	seed(t, car, "r", 100, time.Now().Add(-time.Hour))
	var kinds []wire.Kind
	var mu sync.Mutex
	rec := &recorder{fn: func(b *wire.Batch) {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range b.Items {
			kinds = append(kinds, it.Kind)
		}
	}}
	c := srv.client(t, "car-1", car)
	c.HTTP.Transport = rec.wrap(c.HTTP.Transport)
	c.BatchItems = 7
	if _, err := c.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	rank := map[wire.Kind]int{wire.KindHit: 0, wire.KindDecision: 1, wire.KindWanted: 2, wire.KindRead: 3, wire.KindOverview: 4}
	for i := 1; i < len(kinds); i++ {
		if rank[kinds[i]] < rank[kinds[i-1]] {
			t.Fatalf("item %d: %s after %s", i, kinds[i], kinds[i-1])
		}
	}
	if len(kinds) != 100+20+10+5 {
		t.Fatalf("%d items sent", len(kinds))
	}
}

// recorder decodes each batch a client sends.
type recorder struct{ fn func(*wire.Batch) }

func (r *recorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.URL.Path == "/v1/batches" {
			body, _ := io.ReadAll(req.Body)
			b, err := wire.DecodeBatch(bytes.NewReader(body), req.Header.Get("Content-Type"), req.Header.Get("Content-Encoding"))
			if err != nil {
				return nil, err
			}
			r.fn(b)
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		return rt.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestFaults: whatever goes wrong between car and back office, the back
// office ends with exactly the car's reads, none lost, none twice.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		arrange func(t *testing.T, srv *server, c *uplink.Client)
		// during runs after the first failing sync, to repair things.
		repair   func(t *testing.T, srv *server, c *uplink.Client)
		wantErr  bool
		wantDups bool
	}{
		{"server down", func(t *testing.T, srv *server, c *uplink.Client) { srv.stop() },
			func(t *testing.T, srv *server, c *uplink.Client) { srv.restart(t) }, true, false},
		{"500s", func(t *testing.T, srv *server, c *uplink.Client) { srv.Faults.fail500.Store(3) }, nil, true, false},
		{"slow responses", func(t *testing.T, srv *server, c *uplink.Client) {
			srv.Faults.delay = 600 * time.Millisecond
			srv.Faults.slow.Store(2)
			c.HTTP.Timeout = 200 * time.Millisecond
		}, func(t *testing.T, srv *server, c *uplink.Client) { c.HTTP.Timeout = 20 * time.Second }, true, false},
		{"ack lost after commit", func(t *testing.T, srv *server, c *uplink.Client) { srv.Faults.dropAfterIngest.Store(3) }, nil, true, true},
		{"connection cut mid-batch", func(t *testing.T, srv *server, c *uplink.Client) {
			p := cutProxy(t, srv.Addr, 3, 20000)
			c.URL = "https://" + p
		}, nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, kind string) {
				srv := startServer(t, kind)
				car := openCar(t, filepath.Join(t.TempDir(), "car.db"))
				base := time.Now().Add(-2 * time.Hour).UTC()
				want := seed(t, car, "r", 400, base)
				c := srv.client(t, "car-1", car)
				c.BatchItems = 50
				tc.arrange(t, srv, c)
				res, err := c.SyncOnce(context.Background())
				if tc.wantErr && err == nil {
					t.Fatal("first sync succeeded despite the fault")
				}
				if err != nil {
					st, _ := c.Status(context.Background())
					if st.Link != uplink.LinkDown || st.LastError == "" || st.Pending == 0 {
						t.Fatalf("status after failure: %+v", st)
					}
					if errors.Is(err, uplink.ErrRefused) {
						t.Fatalf("transient fault classified as refusal: %v", err)
					}
				}
				if tc.repair != nil {
					tc.repair(t, srv, c)
				}
				more, _ := syncUntil(t, c, 20)
				res.Duplicates += more.Duplicates
				sameIDs(t, want, backofficeIDs(t, srv.Store, base.Add(-time.Hour), time.Now().Add(time.Hour)))
				st, _ := c.Status(context.Background())
				if st.Pending != 0 || st.Link != uplink.LinkUp {
					t.Fatalf("status after recovery: %+v", st)
				}
				if tc.wantDups && res.Duplicates == 0 {
					t.Fatal("lost acks should have caused re-deliveries the back office recognised")
				}
			})
		})
	}
}

// cutProxy forwards TCP to target, but for the first n connections closes
// both sides after forwarding after bytes from the client: a link that drops
// in the middle of a batch.
func cutProxy(t *testing.T, target string, n int, after int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			cut := n > 0
			n--
			mu.Unlock()
			go func() {
				out, err := net.Dial("tcp", target)
				if err != nil {
					in.Close()
					return
				}
				go func() { io.Copy(in, out); in.Close() }()
				if cut {
					io.CopyN(out, in, after)
					in.Close()
					out.Close()
					return
				}
				io.Copy(out, in)
				out.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestMutualTLS: without a client certificate the car endpoints refuse, and a
// certificate from another CA fails the handshake.
func TestMutualTLS(t *testing.T) {
	srv := startServer(t, "sqlite")
	other := startServer(t, "sqlite") // a different CA
	car := openCar(t, filepath.Join(t.TempDir(), "car.db"))
	seed(t, car, "r", 10, time.Now().Add(-time.Hour))

	c := srv.client(t, "car-1", car)
	cfg := c.HTTP.Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.Certificates = nil
	c.HTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	_, err := c.SyncOnce(context.Background())
	var se *uplink.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusUnauthorized || !errors.Is(err, uplink.ErrRefused) {
		t.Fatalf("no certificate: %v", err)
	}
	if st, _ := c.Status(context.Background()); st.Link != uplink.LinkRefused || st.Pending != 10+1+2+1 {
		t.Fatalf("status %+v", st)
	}

	foreign := other.client(t, "car-1", car)
	foreign.URL = srv.URL
	if _, err := foreign.SyncOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("foreign CA: %v", err)
	}
	if st, _ := srv.Store.Stats(context.Background()); st.Reads != 0 {
		t.Fatalf("stored without a valid certificate: %+v", st)
	}
	// The right certificate works, and names the car.
	good := srv.client(t, "car-2", car)
	if _, err := good.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _ := srv.Store.SearchReads(context.Background(), backoffice.ReadQuery{VRM: vrms[0], From: time.Now().Add(-3 * time.Hour), To: time.Now(), Limit: 10})
	if len(recs) == 0 || recs[0].Car != "car-2" {
		t.Fatalf("car not named by its certificate: %+v", recs)
	}
}

// TestBackoff checks the delays without waiting for them.
func TestBackoff(t *testing.T) {
	c := uplink.NewClient("https://127.0.0.1:1", nil, nil)
	c.MinBackoff, c.MaxBackoff = time.Second, time.Minute
	for _, tc := range []struct {
		failures int
		rand     float64
		want     time.Duration
	}{
		{1, 0, 500 * time.Millisecond}, {1, 0.999999999, time.Second}, {2, 0, time.Second}, {3, 0.5, 3 * time.Second},
		{6, 0, 16 * time.Second}, {7, 0.999999999, time.Minute}, {30, 0, 30 * time.Second}, {1000, 0.5, 45 * time.Second},
	} {
		r := tc.rand
		c.Rand = func() float64 { return r }
		if got := c.Backoff(tc.failures); got.Round(time.Millisecond) != tc.want {
			t.Errorf("Backoff(%d) with rand %v = %v, want %v", tc.failures, tc.rand, got, tc.want)
		}
	}
}

// TestLoopBacksOff runs Start/Stop against a back office that is down, with
// time injected: the loop asks to wait for growing delays and never sleeps.
func TestLoopBacksOff(t *testing.T) {
	srv := startServer(t, "sqlite")
	car := openCar(t, filepath.Join(t.TempDir(), "car.db"))
	want := seed(t, car, "r", 50, time.Now().Add(-time.Hour))
	srv.stop()
	c := srv.client(t, "car-1", car)
	c.Rand = func() float64 { return 0.999999999 }
	c.MinBackoff, c.MaxBackoff = time.Second, 8*time.Second
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	c.After = func(d time.Duration) <-chan time.Time {
		waits <- d
		return fire
	}
	c.Start(context.Background())
	var got []time.Duration
	for range 5 {
		got = append(got, (<-waits).Round(time.Second))
		if len(got) == 5 {
			break
		}
		fire <- time.Now()
	}
	want5 := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i := range want5 {
		if got[i] != want5[i] {
			t.Fatalf("waits %v, want %v", got, want5)
		}
	}
	st, _ := c.Status(context.Background())
	if st.Link != uplink.LinkDown || st.Failures != 5 || st.NextAttempt.IsZero() {
		t.Fatalf("status while down: %+v", st)
	}
	// The back office comes back; the next attempt drains and the loop
	// returns to its idle interval.
	srv.restart(t)
	fire <- time.Now()
	if d := <-waits; d != c.Interval {
		t.Fatalf("wait after recovery %v, want the interval %v", d, c.Interval)
	}
	c.Stop()
	sameIDs(t, want, backofficeIDs(t, srv.Store, time.Now().Add(-3*time.Hour), time.Now().Add(time.Hour)))
}

// TestNotify: new work wakes an idle loop.
func TestNotify(t *testing.T) {
	srv := startServer(t, "sqlite")
	car := openCar(t, filepath.Join(t.TempDir(), "car.db"))
	c := srv.client(t, "car-1", car)
	waits := make(chan time.Duration, 10)
	c.After = func(d time.Duration) <-chan time.Time { waits <- d; return nil } // never fires
	c.Start(context.Background())
	defer c.Stop()
	<-waits
	want := seed(t, car, "n", 20, time.Now().Add(-time.Hour))
	c.Notify()
	<-waits
	sameIDs(t, want, backofficeIDs(t, srv.Store, time.Now().Add(-3*time.Hour), time.Now().Add(time.Hour)))
}

func publish(t *testing.T, srv *server, list string, vrms ...string) wire.ListVersion {
	t.Helper()
	var entries []wire.Entry
	for i, v := range vrms {
		entries = append(entries, wire.Entry{VRM: v, Priority: 1 + i%9, Category: "stolen", Action: "stop and check"})
	}
	v, err := backoffice.Publish(context.Background(), srv.Store, list, entries, "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func carList(t *testing.T, db *sqlite.DB, list string) []string {
	t.Helper()
	var out []string
	err := db.HotlistKeys(context.Background(), func(id int64, vrm string) error { out = append(out, vrm); return nil })
	if err != nil {
		t.Fatal(err)
	}
	stats, _ := db.HotlistStats(context.Background(), time.Now())
	for _, s := range stats {
		if s.List == list && s.Entries != len(out) {
			t.Fatalf("list %s has %d entries, keys %d", list, s.Entries, len(out))
		}
	}
	return out
}

func pubKey(t *testing.T, srv *server) ed25519.PublicKey { return srv.Key.Public().(ed25519.PublicKey) }

// TestHotlists: full download, delta, restart, and the refusals: tampered,
// wrong key, replayed older version. A refused list leaves the old in force.
func TestHotlists(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		srv := startServer(t, kind)
		dir := t.TempDir()
		car := openCar(t, filepath.Join(dir, "car.db"))
		var sinces []string
		var mu sync.Mutex
		newClient := func() *uplink.Client {
			c := srv.client(t, "car-1", car)
			c.Hotlists = uplink.ImportStore[*sqlite.Import, sqlite.ImportResult](car)
			c.HotlistKey = pubKey(t, srv)
			c.StateDir = dir
			rt := c.HTTP.Transport
			c.HTTP.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if strings.HasPrefix(r.URL.Path, "/v1/hotlists/") {
					mu.Lock()
					sinces = append(sinces, r.URL.Query().Get("since"))
					mu.Unlock()
				}
				return rt.RoundTrip(r)
			})
			return c
		}
		c := newClient()

		publish(t, srv, "stolen", "AB12CDE", "XY51ABC", "KM07XYZ")
		if err := c.FetchHotlists(ctx); err != nil {
			t.Fatal(err)
		}
		if got := carList(t, car, "stolen"); len(got) != 3 {
			t.Fatalf("car list %v", got)
		}
		// Generation 2 drops one and adds one: a delta from 1.
		publish(t, srv, "stolen", "AB12CDE", "XY51ABC", "LV68PQR")
		if err := c.FetchHotlists(ctx); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(carList(t, car, "stolen"), ",")
		if !strings.Contains(got, "LV68PQR") || strings.Contains(got, "KM07XYZ") || len(strings.Split(got, ",")) != 3 {
			t.Fatalf("after delta: %s", got)
		}
		if strings.Join(sinces, ",") != "0,1" {
			t.Fatalf("asked since %v, want a full list then a delta from 1", sinces)
		}
		// Current: nothing downloaded.
		if err := c.FetchHotlists(ctx); err != nil || len(sinces) != 2 {
			t.Fatalf("current list fetched again: %v %v", err, sinces)
		}
		// A restarted car asks for a delta from what it applied.
		c = newClient()
		publish(t, srv, "stolen", "AB12CDE", "XY51ABC", "LV68PQR", "GF19HJK")
		if err := c.FetchHotlists(ctx); err != nil {
			t.Fatal(err)
		}
		if sinces[len(sinces)-1] != "2" || len(carList(t, car, "stolen")) != 4 {
			t.Fatalf("after restart: since %v, list %v", sinces, carList(t, car, "stolen"))
		}
		st, _ := c.Status(ctx)
		if hs := st.Hotlists["stolen"]; hs.Generation != 3 || hs.Entries != 4 || hs.Refused != "" {
			t.Fatalf("status %+v", hs)
		}
		inForce := strings.Join(carList(t, car, "stolen"), ",")

		// Record a genuine signed full list of generation 3 to replay later.
		resp := srvGet(t, c, srv.URL+"/v1/hotlists/stolen?since=0")
		oldGen3 := resp

		_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
		for _, tc := range []struct {
			name    string
			rewrite func([]byte) []byte
			key     ed25519.PublicKey
			want    error
		}{
			{"tampered", func(b []byte) []byte {
				var s wire.SignedHotlist
				json.Unmarshal(b, &s)
				s.Payload = bytes.Replace(s.Payload, []byte("AB12CDE"), []byte("AB12CDF"), 1)
				out, _ := json.Marshal(s)
				return out
			}, nil, wire.ErrBadSignature},
			{"wrong key", func(b []byte) []byte {
				var s wire.SignedHotlist
				json.Unmarshal(b, &s)
				var h wire.Hotlist
				json.Unmarshal(s.Payload, &h)
				forged, _ := wire.SignHotlist(&h, otherKey)
				out, _ := json.Marshal(forged)
				return out
			}, nil, wire.ErrUnknownKey},
			{"signed by a key the car does not trust", nil, otherKey.Public().(ed25519.PublicKey), wire.ErrUnknownKey},
			{"replayed old version", func([]byte) []byte { return oldGen3 }, nil, uplink.ErrStale},
			{"garbage", func([]byte) []byte { return []byte("{not json") }, nil, wire.ErrMalformed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				publish(t, srv, "stolen", "ZZ99ZZZ") // a newer generation the car should want
				srv.Faults.mu.Lock()
				srv.Faults.hotlist = tc.rewrite
				srv.Faults.mu.Unlock()
				defer func() {
					srv.Faults.mu.Lock()
					srv.Faults.hotlist = nil
					srv.Faults.mu.Unlock()
				}()
				c := newClient()
				if tc.key != nil {
					c.HotlistKey = tc.key
				}
				err := c.FetchHotlists(ctx)
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if got := strings.Join(carList(t, car, "stolen"), ","); got != inForce {
					t.Fatalf("list changed to %s", got)
				}
				st, _ := c.Status(ctx)
				if hs := st.Hotlists["stolen"]; hs.Refused == "" || hs.Generation != 3 {
					t.Fatalf("refusal not reported: %+v", hs)
				}
			})
		}
		// Untampered again: the newest generation applies.
		if err := newClient().FetchHotlists(ctx); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(carList(t, car, "stolen"), ","); got != "ZZ99ZZZ" {
			t.Fatalf("final list %s", got)
		}
	})
}

func srvGet(t *testing.T, c *uplink.Client, url string) []byte {
	t.Helper()
	resp, err := c.HTTP.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// TestWantedAndRejected: an entry added in the car goes up; an item that
// cannot be encoded validly is set aside instead of blocking the queue.
func TestWantedAndRejected(t *testing.T) {
	srv := startServer(t, "sqlite")
	car := openCar(t, filepath.Join(t.TempDir(), "car.db"))
	if _, err := car.AddWanted(context.Background(), app.HotlistEntry{List: app.WantedListName, VRM: "WA12NTD", Priority: 1,
		AddedBy: "1234", Expires: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	bad := app.Read{ID: "bad", VRM: strings.Repeat("A", 200), Time: time.Now(), Camera: "front"}
	if err := car.SaveRead(context.Background(), bad, nil); err != nil {
		t.Fatal(err)
	}
	want := seed(t, car, "r", 5, time.Now().Add(-time.Hour))
	c := srv.client(t, "car-1", car)
	res, err := c.SyncOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 1 {
		t.Fatalf("result %+v", res)
	}
	st, _ := c.Status(context.Background())
	if st.Pending != 0 || st.Rejected != 1 {
		t.Fatalf("status %+v", st)
	}
	sameIDs(t, want, backofficeIDs(t, srv.Store, time.Now().Add(-3*time.Hour), time.Now().Add(time.Hour)))
}

// TestEmptyOutboxSaysNothingOfTheLink: with nothing to send nothing is
// exchanged, so the link is not reported up.
func TestEmptyOutboxSaysNothingOfTheLink(t *testing.T) {
	srv := startServer(t, "sqlite")
	srv.stop()
	car := openCar(t, filepath.Join(t.TempDir(), "car.db"))
	c := srv.client(t, "car-1", car)
	if res, err := c.SyncOnce(context.Background()); err != nil || res.Batches != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if st, _ := c.Status(context.Background()); st.Link != uplink.LinkUnknown {
		t.Fatalf("link %s with nothing exchanged", st.Link)
	}
}
