// Command backoffice measures the back office against the targets:
//
//	go run ./bench/backoffice ingest --db DSN [--reads N] [--batch N] [--writers N] [--http]
//	go run ./bench/backoffice drain [--reads N] [--patch BYTES]
//	go run ./bench/backoffice search --db postgres://… [--reads N] [--days N] [--vehicles N] [--queries N]
//
// ingest stores reads without images (idempotency on: every insert is
// ON CONFLICT DO NOTHING) straight into a store, or with --http through the
// service (gzip JSON decode, validation) over loopback; it reports reads/s
// by wall clock and per CPU-second of this process. drain fills a real car
// store with reads carrying plate patches and times the uplink draining them
// to an in-process back office over loopback with mutual TLS. search
// generates reads in PostgreSQL with SQL and times searches by VRM over a
// 90-day window. Every store it creates is new (a temporary SQLite file, or
// a fresh schema dropped afterwards).
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/devcert"
	"github.com/ukanpr/anpr/sync/backoffice/pgstore"
	"github.com/ukanpr/anpr/sync/backoffice/sqlitestore"
	"github.com/ukanpr/anpr/sync/uplink"
	"github.com/ukanpr/anpr/sync/wire"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: backoffice ingest|drain|search [options]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "ingest":
		err = ingest(os.Args[2:])
	case "drain":
		err = drain(os.Args[2:])
	case "search":
		err = search(os.Args[2:])
	default:
		err = fmt.Errorf("unknown benchmark %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "backoffice:", err)
		os.Exit(1)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU sums the CPU time of every process named postgres (the
// database server on this machine; zero when there is none or it is
// elsewhere), from /proc, at the kernel's 100 ticks a second.
func serverCPU() time.Duration {
	dirs, _ := os.ReadDir("/proc")
	var ticks int64
	for _, d := range dirs {
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil || !bytes.Contains(raw, []byte("(postgres)")) {
			continue
		}
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(f) > 13 {
			var u, s int64
			fmt.Sscan(f[11], &u)
			fmt.Sscan(f[12], &s)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// open opens a fresh store: a temporary SQLite file or a new PostgreSQL schema.
func open(ctx context.Context, dsn string) (backoffice.Store, func(), error) {
	if strings.HasPrefix(dsn, "postgres") {
		schema := fmt.Sprintf("anpr_bench_%d", time.Now().UnixNano())
		s, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema})
		if err != nil {
			return nil, nil, err
		}
		return s, func() {
			if err := s.DropSchema(ctx, schema); err != nil {
				fmt.Fprintln(os.Stderr, "drop schema:", err)
			}
			s.Close()
		}, nil
	}
	dir, err := os.MkdirTemp(dsn, "anpr-bench-")
	if err != nil {
		return nil, nil, err
	}
	s, err := sqlitestore.Open(filepath.Join(dir, "bo.db"))
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close(); os.RemoveAll(dir) }, nil
}

var vrmChars = "ABCDEFGHJKLMNOPRSTUVWXYZ"

func randomVRM(r *mrand.Rand) string {
	b := []byte("AB12CDE")
	for _, i := range []int{0, 1, 4, 5, 6} {
		b[i] = vrmChars[r.IntN(len(vrmChars))]
	}
	b[2], b[3] = byte('0'+r.IntN(10)), byte('0'+r.IntN(10))
	return string(b)
}

func makeReads(n int, seed uint64, base time.Time) []wire.Item {
	r := mrand.New(mrand.NewPCG(seed, 1))
	items := make([]wire.Item, n)
	for i := range items {
		v := randomVRM(r)
		h := float64(r.IntN(360))
		items[i] = wire.Item{Kind: wire.KindRead, Read: &wire.Read{
			ID: fmt.Sprintf("%016x-%08d", seed, i), VRM: v, Raw: v, Confidence: 0.8 + r.Float64()/5,
			Candidates: []wire.Candidate{{Text: v, Confidence: 0.9}}, Format: "gb-current",
			Time: base.Add(time.Duration(i) * 50 * time.Millisecond), ClockSource: "gps", Camera: "front",
			Position: wire.Position{Fix: "3d", Lat: 52 + r.Float64(), Lon: -1 - r.Float64(), AgeMS: 200, SpeedMPS: 13, HeadingDeg: &h, HDOP: 0.9, Sats: 9},
		}}
	}
	return items
}

func ingest(args []string) error {
	fs := flag.NewFlagSet("ingest", flag.ExitOnError)
	dsn := fs.String("db", os.TempDir(), "postgres://… or a directory for a temporary SQLite file")
	n := fs.Int("reads", 200000, "reads to ingest")
	batch := fs.Int("batch", 500, "reads per batch")
	writers := fs.Int("writers", 1, "concurrent batches")
	viaHTTP := fs.Bool("http", false, "through the service over loopback (gzip JSON) instead of straight into the store")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the timed run to this file")
	fs.Parse(args)
	ctx := context.Background()
	st, done, err := open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer done()
	items := makeReads(*n, uint64(time.Now().UnixNano()), time.Now().Add(-12*time.Hour))
	var batches [][]wire.Item
	for i := 0; i < len(items); i += *batch {
		batches = append(batches, items[i:min(i+*batch, len(items))])
	}
	send := func(b []wire.Item) error {
		_, err := st.Ingest(ctx, "car-1", b, time.Now())
		return err
	}
	if *viaHTTP {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		srv := backoffice.NewServer(st, key)
		srv.InsecureCarHeader = true
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		hs := &http.Server{Handler: srv.Handler()}
		go hs.Serve(ln)
		defer hs.Close()
		url := "http://" + ln.Addr().String() + "/v1/batches"
		// Bodies are encoded before the clock starts: the car does that work.
		bodies := make([][]byte, len(batches))
		for i, b := range batches {
			var buf bytes.Buffer
			if err := wire.EncodeBatch(&buf, &wire.Batch{ID: fmt.Sprint(i), Items: b}); err != nil {
				return err
			}
			bodies[i] = buf.Bytes()
		}
		byBatch := map[*wire.Item][]byte{}
		for i, b := range batches {
			byBatch[&b[0]] = bodies[i]
		}
		send = func(b []wire.Item) error {
			req, _ := http.NewRequest("POST", url, bytes.NewReader(byBatch[&b[0]]))
			req.Header.Set("Content-Type", wire.BatchContentType)
			req.Header.Set("Content-Encoding", "gzip")
			req.Header.Set("X-ANPR-Car", "car-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}
	}
	var dbCPU time.Duration
	run := func() (time.Duration, time.Duration, error) {
		cpu0, db0, t0 := cpuTime(), serverCPU(), time.Now()
		defer func() { dbCPU = serverCPU() - db0 }()
		work := make(chan []wire.Item)
		errc := make(chan error, *writers)
		var wg sync.WaitGroup
		for range *writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range work {
					if err := send(b); err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		for _, b := range batches {
			work <- b
		}
		close(work)
		wg.Wait()
		select {
		case err := <-errc:
			return 0, 0, err
		default:
		}
		return time.Since(t0), cpuTime() - cpu0, nil
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
	}
	wall, cpu, err := run()
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	mode := "store"
	if *viaHTTP {
		mode = "http"
	}
	fmt.Printf("ingest %s into %s: %d reads in %d batches of %d, %d writers: %.2fs wall, %.2fs CPU in this process, %.2fs CPU in PostgreSQL: %.0f reads/s, %.0f reads per CPU-second\n",
		mode, kindOf(*dsn), *n, len(batches), *batch, *writers, wall.Seconds(), cpu.Seconds(), dbCPU.Seconds(),
		float64(*n)/wall.Seconds(), float64(*n)/(cpu+dbCPU).Seconds())
	// The same reads again: every one is a duplicate.
	wall, cpu, err = run()
	if err != nil {
		return err
	}
	s, _ := st.Stats(ctx)
	fmt.Printf("re-delivered (all duplicates): %.2fs wall: %.0f reads/s; back office holds %d reads\n", wall.Seconds(), float64(*n)/wall.Seconds(), s.Reads)
	if s.Reads != int64(*n) {
		return fmt.Errorf("holds %d reads, want %d", s.Reads, *n)
	}
	return nil
}

func kindOf(dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return "PostgreSQL"
	}
	return "SQLite"
}

func drain(args []string) error {
	fs := flag.NewFlagSet("drain", flag.ExitOnError)
	n := fs.Int("reads", 30000, "reads in the car's outbox")
	patch := fs.Int("patch", 4000, "plate patch bytes per read")
	overview := fs.Int("overview", 0, "overview bytes per read (0: none)")
	batch := fs.Int("batch", 500, "items per batch")
	fs.Parse(args)
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "anpr-drain-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := devcert.Mint(dir, []string{"car-1"}, time.Now(), time.Hour); err != nil {
		return err
	}
	key, _ := devcert.SigningKey(filepath.Join(dir, devcert.SigningKeyFile))
	st, err := sqlitestore.Open(filepath.Join(dir, "bo.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	srv := backoffice.NewServer(st, key)
	srv.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := devcert.ServerTLS(dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), TLSConfig: cfg}
	go hs.ServeTLS(ln, "", "")
	defer hs.Close()

	car, err := sqlite.Open(filepath.Join(dir, "car.db"))
	if err != nil {
		return err
	}
	defer car.Close()
	r := mrand.New(mrand.NewPCG(1, 2))
	t0 := time.Now()
	base := time.Now().Add(-8 * time.Hour)
	var rs []sqlite.ReadWithHit
	for i := range *n {
		v := randomVRM(r)
		p := make([]byte, *patch)
		for j := range p {
			p[j] = byte(r.IntN(256)) // JPEG data does not compress
		}
		rd := app.Read{ID: fmt.Sprintf("shift-%06d", i), VRM: v, Raw: v, Confidence: 0.9, Candidates: []app.Candidate{{Text: v, Confidence: 0.9}},
			Time: base.Add(time.Duration(i) * time.Second), Camera: "front", ClockSource: app.ClockGPS,
			Position: app.Position{Fix: app.Fix3D, Lat: 52.9, Lon: -1.4, HeadingDeg: 90}, Patch: p}
		if *overview > 0 {
			rd.Overview = make([]byte, *overview)
		}
		rs = append(rs, sqlite.ReadWithHit{Read: rd})
		if len(rs) == 500 {
			if err := car.SaveReads(ctx, rs); err != nil {
				return err
			}
			rs = rs[:0]
		}
	}
	if err := car.SaveReads(ctx, rs); err != nil {
		return err
	}
	os0, _ := car.OutboxStats(ctx)
	fmt.Printf("filled the car's outbox with %d items (%.1f MB) in %.1fs\n", os0.Pending, float64(os0.PendingBytes)/1e6, time.Since(t0).Seconds())

	ccfg, err := uplink.TLSConfig(filepath.Join(dir, devcert.CAFile), filepath.Join(dir, "car-car-1.pem"), filepath.Join(dir, "car-car-1-key.pem"))
	if err != nil {
		return err
	}
	c := uplink.NewClient("https://"+ln.Addr().String(), &http.Client{Transport: &http.Transport{TLSClientConfig: ccfg}}, car)
	c.BatchItems = *batch
	cpu0, t1 := cpuTime(), time.Now()
	res, err := c.SyncOnce(ctx)
	if err != nil {
		return err
	}
	wall := time.Since(t1)
	s, _ := st.Stats(ctx)
	fmt.Printf("drained %d items in %d batches over loopback mTLS in %.1fs (%.0f items/s; %.1fs CPU for car and back office together); back office holds %d reads\n",
		res.Items, res.Batches, wall.Seconds(), float64(res.Items)/wall.Seconds(), (cpuTime() - cpu0).Seconds(), s.Reads)
	_ = tls.VersionTLS13
	return nil
}

func search(args []string) error {
	fs := flag.NewFlagSet("search", flag.ExitOnError)
	dsn := fs.String("db", "", "postgres://…")
	n := fs.Int("reads", 1000000, "reads to generate")
	days := fs.Int("days", 90, "days the reads span, ending now")
	vehicles := fs.Int("vehicles", 0, "distinct VRMs (default reads/10)")
	queries := fs.Int("queries", 1000, "searches to time")
	keep := fs.String("keep-schema", "", "use (and keep) this schema; reuse generated data when it already holds reads")
	seed := fs.Uint64("seed", 3, "picks the VRMs searched for")
	fs.Parse(args)
	if !strings.HasPrefix(*dsn, "postgres") {
		return fmt.Errorf("--db must be a postgres:// DSN")
	}
	if *vehicles == 0 {
		*vehicles = max(*n/10, 1)
	}
	ctx := context.Background()
	schema := *keep
	if schema == "" {
		schema = fmt.Sprintf("anpr_bench_%d", time.Now().UnixNano())
	}
	st, err := pgstore.Open(ctx, *dsn, pgstore.Options{Schema: schema})
	if err != nil {
		return err
	}
	defer st.Close()
	if *keep == "" {
		defer st.DropSchema(ctx, schema)
	}
	now := time.Now().UTC()
	cfg, _ := pgx.ParseConfig(*dsn)
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var held int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM reads`).Scan(&held); err != nil {
		return err
	}
	if held == 0 {
		// One read a day creates the day partitions through the store.
		var seedItems []wire.Item
		for d := range *days {
			it := makeReads(1, uint64(d), now.AddDate(0, 0, -d).Add(-time.Hour))[0]
			seedItems = append(seedItems, it)
		}
		if _, err := st.Ingest(ctx, "seed", seedItems, now); err != nil {
			return err
		}
		t0 := time.Now()
		perDay := *n / *days
		for d := range *days {
			dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -d)
			_, err := conn.Exec(ctx, `INSERT INTO reads (vrm, captured, id, car, raw, confidence, camera, fix, lat, lon, fix_age_ms,
				estimated, speed_mps, hdop, sats, clock_source, clock_offset_ms, clock_suspect, format, pass_id, received)
				SELECT v, $1::timestamptz + (random() * interval '86399 seconds'), md5(random()::text || g::text), 'car-' || (g % 50),
					v, 0.9, 'front', '3d', 52 + random(), -1 - random(), 200, false, 13, 0.9, 9, 'gps', 0, false, 'gb-current', '', now()
				FROM (SELECT g, 'V' || lpad((floor(random() * $2))::int::text, 7, '0') AS v FROM generate_series(1, $3) g) s`,
				dayStart, *vehicles, perDay)
			if err != nil {
				return fmt.Errorf("generate day %d: %w", d, err)
			}
			if d%10 == 9 {
				fmt.Printf("generated %d of %d days (%.0fs)\n", d+1, *days, time.Since(t0).Seconds())
			}
		}
		if _, err := conn.Exec(ctx, `ANALYZE reads`); err != nil {
			return err
		}
		fmt.Printf("generated %d reads of %d vehicles over %d days in %.0fs\n", perDay**days, *vehicles, *days, time.Since(t0).Seconds())
	}
	r := mrand.New(mrand.NewPCG(*seed, 4))
	var lat []time.Duration
	total := 0
	for range *queries {
		v := fmt.Sprintf("V%07d", r.IntN(*vehicles))
		t0 := time.Now()
		recs, err := st.SearchReads(ctx, backoffice.ReadQuery{VRM: v, From: now.AddDate(0, 0, -*days), To: now.Add(time.Hour), Limit: 1000})
		if err != nil {
			return err
		}
		lat = append(lat, time.Since(t0))
		total += len(recs)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[min(int(p*float64(len(lat))), len(lat)-1)] }
	conn.QueryRow(ctx, `SELECT count(*) FROM reads`).Scan(&held)
	fmt.Printf("search by VRM over %d reads (%d-day window, %d partitions): %d queries, %.1f reads each; p50 %v, p90 %v, p99 %v, max %v\n",
		held, *days, *days, len(lat), float64(total)/float64(len(lat)), pct(0.5).Round(10*time.Microsecond),
		pct(0.9).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	return nil
}
