package uplink_test

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/devcert"
	"github.com/ukanpr/anpr/sync/backoffice/storetest"
	"github.com/ukanpr/anpr/sync/uplink"
)

// Compile-time proof that the car's real store is what the uplink consumes.
var (
	_ uplink.Outbox = (*sqlite.DB)(nil)
	_               = uplink.ImportStore[*sqlite.Import, sqlite.ImportResult]
)

// faults is what the test back office does wrong, consumed request by request.
type faults struct {
	fail500         atomic.Int32 // answer 500 before ingesting
	dropAfterIngest atomic.Int32 // ingest, then cut the connection: the ack is lost
	slow            atomic.Int32 // delay this many requests by delay
	delay           time.Duration
	batches         atomic.Int32
	// hotlist, when set, rewrites a hot-list download's body.
	mu      sync.Mutex
	hotlist func(body []byte) []byte
	kinds   []string // item kinds of each batch's first item, in order
}

// server is a real back office on loopback with real mutual TLS.
type server struct {
	URL    string
	Addr   string
	Store  storetest.Store
	Dir    string // certificates and the signing key
	Key    ed25519.PrivateKey
	Faults *faults
	hs     *http.Server
	ln     net.Listener
}

func startServer(t testing.TB, kind string) *server {
	t.Helper()
	dir := t.TempDir()
	if err := devcert.Mint(dir, []string{"car-1", "car-2"}, time.Now(), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	key, err := devcert.SigningKey(filepath.Join(dir, devcert.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{Store: storetest.Open(t, kind), Dir: dir, Key: key, Faults: &faults{}}
	bo := backoffice.NewServer(s.Store, key)
	bo.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := devcert.ServerTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.hs = &http.Server{Handler: s.Faults.wrap(bo.Handler()), TLSConfig: cfg, ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}, // HTTP/1.1, so faults can hijack
		ErrorLog:     slog.NewLogLogger(slog.NewTextHandler(io.Discard, nil).WithAttrs(nil), slog.LevelError)}
	s.listen(t, "127.0.0.1:0")
	t.Cleanup(s.stop)
	return s
}

func (s *server) listen(t testing.TB, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.Addr, s.URL = ln, ln.Addr().String(), "https://"+ln.Addr().String()
	go s.hs.ServeTLS(ln, "", "")
}

// stop closes the listener and every connection: the back office is down.
func (s *server) stop() {
	s.hs.Close()
}

// restart serves again on the same address.
func (s *server) restart(t testing.TB) {
	t.Helper()
	h, cfg := s.hs.Handler, s.hs.TLSConfig
	s.hs = &http.Server{Handler: h, TLSConfig: cfg, TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog: slog.NewLogLogger(slog.NewTextHandler(io.Discard, nil), slog.LevelError)}
	var err error
	for range 50 { // the port may linger briefly
		if s.ln, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	go s.hs.ServeTLS(s.ln, "", "")
}

func (f *faults) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.slow.Add(-1) >= 0 {
			time.Sleep(f.delay)
		}
		if r.URL.Path == "/v1/batches" {
			f.batches.Add(1)
			if f.fail500.Add(-1) >= 0 {
				http.Error(w, `{"code":"internal","message":"injected failure"}`, http.StatusInternalServerError)
				return
			}
			if f.dropAfterIngest.Add(-1) >= 0 {
				rec := &discard{header: http.Header{}}
				h.ServeHTTP(rec, r)
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
		}
		f.mu.Lock()
		rewrite := f.hotlist
		f.mu.Unlock()
		if rewrite != nil && strings.HasPrefix(r.URL.Path, "/v1/hotlists/") {
			rec := &discard{header: http.Header{}}
			h.ServeHTTP(rec, r)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			if rec.code != 0 && rec.code != 200 {
				w.WriteHeader(rec.code)
				return
			}
			w.Write(rewrite(rec.body))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// discard records a response instead of sending it.
type discard struct {
	header http.Header
	code   int
	body   []byte
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(b []byte) (int, error) { d.body = append(d.body, b...); return len(b), nil }

// client returns an uplink client for car with its certificate, draining ob.
func (s *server) client(t testing.TB, car string, ob uplink.Outbox) *uplink.Client {
	t.Helper()
	cf, kf := devcert.CarFiles(car)
	cfg, err := uplink.TLSConfig(filepath.Join(s.Dir, devcert.CAFile), filepath.Join(s.Dir, cf), filepath.Join(s.Dir, kf))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 20 * time.Second}
	c := uplink.NewClient(s.URL, hc, ob)
	c.Car = car
	c.BatchItems = 100
	c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Cleanup(hc.CloseIdleConnections)
	return c
}

// openCar opens a real car store in dir.
func openCar(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var vrms = []string{"AB12CDE", "XY51ABC", "KM07XYZ", "LV68PQR", "GF19HJK", "BD55ZZT", "YR63NOP", "WP14AAA"}

// seed stores n reads in the car (every tenth with a hit, every fifth with an
// overview, every twentieth hit with a decision) and returns their ids.
func seed(t testing.TB, db *sqlite.DB, prefix string, n int, base time.Time) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	var batch []sqlite.ReadWithHit
	for i := range n {
		id := fmt.Sprintf("%s-%06d", prefix, i)
		vrm := vrms[i%len(vrms)]
		patch := make([]byte, 800+rng.IntN(800))
		patch[0], patch[1] = 0xff, 0xd8
		r := app.Read{ID: id, VRM: vrm, Raw: vrm, Confidence: 0.9, Candidates: []app.Candidate{{Text: vrm, Confidence: 0.9}},
			Format: app.FormatCurrent, Time: base.Add(time.Duration(i) * time.Second), ClockSource: app.ClockGPS, Camera: "front",
			Position: app.Position{Fix: app.Fix3D, Lat: 52.9, Lon: -1.47, HeadingDeg: 90, HDOP: 0.9, Sats: 9}, Patch: patch, PassID: id}
		if i%5 == 0 {
			r.Overview = make([]byte, 4000)
		}
		var hit *app.Hit
		if i%10 == 0 {
			hit = &app.Hit{ReadID: id, Time: r.Time, Matches: []app.Match{{Kind: app.MatchExact, Candidate: vrm,
				Entry: app.HotlistEntry{List: "stolen", VRM: vrm, Priority: 1, Category: "stolen"}}}}
		}
		batch = append(batch, sqlite.ReadWithHit{Read: r, Hit: hit})
		ids[id] = true
		if len(batch) == 200 || i == n-1 {
			if err := db.SaveReads(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for i := 0; i < n; i += 20 {
		id := fmt.Sprintf("%s-%06d", prefix, i)
		if err := db.SaveDecision(context.Background(), app.Decision{ReadID: id, Outcome: app.OutcomeConfirmed, Officer: "1234",
			Time: base.Add(time.Duration(i)*time.Second + time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// backofficeIDs returns every read id the back office holds, and fails the
// test if any is held twice.
func backofficeIDs(t testing.TB, st backoffice.Store, from, to time.Time) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, v := range vrms {
		recs, err := st.SearchReads(context.Background(), backoffice.ReadQuery{VRM: v, From: from, To: to, Limit: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if got[r.ID] {
				t.Fatalf("read %s stored twice", r.ID)
			}
			got[r.ID] = true
		}
	}
	return got
}

// sameIDs fails unless want and got hold exactly the same ids.
func sameIDs(t testing.TB, want, got map[string]bool) {
	t.Helper()
	var missing, extra []string
	for id := range want {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if !want[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("back office differs from the car: %d missing %v, %d extra %v", len(missing), head(missing), len(extra), head(extra))
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }
