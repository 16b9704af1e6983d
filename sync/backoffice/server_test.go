package backoffice_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/storetest"
	"github.com/ukanpr/anpr/sync/wire"
)

// api is the service over HTTP on loopback (plain: mutual TLS is exercised
// by the uplink tests), with cars named by header.
type api struct {
	URL   string
	Store storetest.Store
	Pub   ed25519.PublicKey
	Now   time.Time
}

func startAPI(t *testing.T, kind string) *api {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	st := storetest.Open(t, kind)
	srv := backoffice.NewServer(st, key)
	srv.InsecureCarHeader = true
	srv.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv.Now = func() time.Time { return now }
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &api{URL: hs.URL, Store: st, Pub: pub, Now: now}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func (a *api) do(t *testing.T, method, path string, hdr map[string]string, body []byte) (int, wire.Error, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, a.URL+path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e wire.Error
	json.Unmarshal(raw, &e)
	return resp.StatusCode, e, raw
}

// TestBadInput: every kind of bad body gets a clear 4xx and nothing of it is
// stored, not even the valid items beside the bad one.
func TestBadInput(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := startAPI(t, kind)
			good := func() []byte {
				var buf bytes.Buffer
				wire.EncodeBatch(&buf, &wire.Batch{ID: "b", Items: []wire.Item{read("ok-1", "AB12CDE", now)}})
				return buf.Bytes()
			}
			car := map[string]string{"X-ANPR-Car": "car-1", "Content-Type": wire.BatchContentType, "Content-Encoding": "gzip"}
			with := func(k, v string) map[string]string {
				h := map[string]string{}
				for a, b := range car {
					h[a] = b
				}
				if v == "" {
					delete(h, k)
				} else {
					h[k] = v
				}
				return h
			}
			halfBad := gzipped([]byte(`{"version":1,"id":"x","items":[` +
				`{"kind":"read","read":{"id":"ok-2","vrm":"AB12CDE","time":"2026-06-01T11:00:00Z"}},` +
				`{"kind":"read","read":{"id":"bad","vrm":"","time":"2026-06-01T11:00:00Z"}}]}`))
			huge := gzipped([]byte(`{"version":1,"id":"x","items":[{"kind":"overview","overview":{"read_id":"r","jpeg":"` +
				strings.Repeat("AAAA", wire.MaxOverviewBytes/3+100) + `"}}]}`))
			future := gzipped([]byte(`{"version":1,"id":"x","items":[{"kind":"read","read":{"id":"f","vrm":"AB12CDE","time":"2026-06-05T11:00:00Z"}}]}`))
			for _, tc := range []struct {
				name     string
				hdr      map[string]string
				body     []byte
				wantCode int
				wantName string
			}{
				{"no car", with("X-ANPR-Car", ""), good(), 401, "unauthenticated"},
				{"wrong content type", with("Content-Type", "application/json"), good(), 415, "unsupported_media_type"},
				{"no content type", with("Content-Type", ""), good(), 415, "unsupported_media_type"},
				{"wrong encoding", with("Content-Encoding", "deflate"), good(), 415, "unsupported_media_type"},
				{"not gzip", car, []byte("plain text"), 400, "malformed"},
				{"malformed json", car, gzipped([]byte(`{"version":1,"items":[`)), 400, "malformed"},
				{"unknown version", car, gzipped([]byte(`{"version":9,"id":"x","items":[]}`)), 400, "unsupported_version"},
				{"half bad batch", car, halfBad, 400, "malformed"},
				{"oversized item", car, huge, 413, "too_large"},
				{"oversized body", car, bytes.Repeat([]byte("x"), wire.MaxBatchCompressed+10), 413, "too_large"},
				{"read from the future", car, future, 400, "malformed"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					code, e, raw := a.do(t, "POST", "/v1/batches", tc.hdr, tc.body)
					if code != tc.wantCode || e.Code != tc.wantName || e.Message == "" {
						t.Fatalf("got %d %s, want %d %s", code, raw, tc.wantCode, tc.wantName)
					}
				})
			}
			if st, _ := a.Store.Stats(context.Background()); st.Reads != 0 {
				t.Fatalf("bad input stored: %+v", st)
			}
			code, _, raw := a.do(t, "POST", "/v1/batches", car, good())
			var ack wire.Ack
			json.Unmarshal(raw, &ack)
			if code != 200 || ack.Stored != 1 || ack.BatchID != "b" {
				t.Fatalf("good batch: %d %s", code, raw)
			}
		})
	}
}

func (a *api) user(t *testing.T, name, role string) string {
	tok := backoffice.NewToken()
	if err := a.Store.AddUser(context.Background(), backoffice.User{Name: name, Role: role, Created: now}, backoffice.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestUserEndpoints(t *testing.T) {
	a := startAPI(t, "sqlite")
	admin, analyst, senior := a.user(t, "adm", "admin"), a.user(t, "pc1", "analyst"), a.user(t, "supt", "senior")
	js := func(tok string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	}
	pub := []byte(`{"version":1,"entries":[{"vrm":"ab12 cde","priority":1},{"vrm":"XY51ABC"}]}`)
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		body               []byte
		want               int
	}{
		{"publish without token", "POST", "/v1/admin/hotlists/stolen", map[string]string{"Content-Type": "application/json"}, pub, 401},
		{"publish with bad token", "POST", "/v1/admin/hotlists/stolen", js("anpr_nope"), pub, 401},
		{"publish as analyst", "POST", "/v1/admin/hotlists/stolen", js(analyst), pub, 403},
		{"publish wrong type", "POST", "/v1/admin/hotlists/stolen", map[string]string{"Authorization": "Bearer " + admin, "Content-Type": "text/csv"}, pub, 415},
		{"publish unknown version", "POST", "/v1/admin/hotlists/stolen", js(admin), []byte(`{"version":3,"entries":[]}`), 400},
		{"publish duplicate vrm", "POST", "/v1/admin/hotlists/stolen", js(admin), []byte(`{"version":1,"entries":[{"vrm":"A1"},{"vrm":"A1"}]}`), 400},
		{"publish", "POST", "/v1/admin/hotlists/stolen", js(admin), pub, 200},
		{"search without purpose", "POST", "/v1/search", js(analyst), []byte(`{"version":1,"vrm":"AB12CDE","case_ref":"C1"}`), 400},
		{"search unknown field", "POST", "/v1/search", js(analyst), []byte(`{"version":1,"vrm":"AB12CDE","case_ref":"C1","purpose":"p","tier":"all"}`), 400},
		{"search", "POST", "/v1/search", js(analyst), []byte(`{"version":1,"vrm":"AB12CDE","case_ref":"C1","purpose":"stolen vehicle enquiry"}`), 200},
		{"search old as analyst routine", "POST", "/v1/search", js(analyst), []byte(`{"version":1,"vrm":"AB12CDE","case_ref":"C1","purpose":"p","from":"2025-06-01T00:00:00Z"}`), 403},
		{"authorise as analyst", "POST", "/v1/authorisations", js(analyst), []byte(`{"version":1,"case_ref":"OP-1","investigation":"major","reason":"r"}`), 403},
		{"authorise", "POST", "/v1/authorisations", js(senior), []byte(`{"version":1,"case_ref":"OP-1","investigation":"major","reason":"r"}`), 201},
		{"audit verify as analyst", "GET", "/v1/audit/verify", js(analyst), nil, 403},
		{"audit verify", "GET", "/v1/audit/verify", js(admin), nil, 200},
		{"manifest without car", "GET", "/v1/hotlists", nil, nil, 401},
		{"hot list with bad since", "GET", "/v1/hotlists/stolen?since=x", map[string]string{"X-ANPR-Car": "car-1"}, nil, 400},
		{"unknown hot list", "GET", "/v1/hotlists/nope", map[string]string{"X-ANPR-Car": "car-1"}, nil, 404},
		{"current hot list", "GET", "/v1/hotlists/stolen?since=1", map[string]string{"X-ANPR-Car": "car-1"}, nil, 304},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, raw := a.do(t, tc.method, tc.path, tc.hdr, tc.body)
			if code != tc.want {
				t.Fatalf("got %d %s, want %d", code, raw, tc.want)
			}
		})
	}
	// The published list downloads signed, normalised, with default priority.
	code, _, raw := a.do(t, "GET", "/v1/hotlists/stolen", map[string]string{"X-ANPR-Car": "car-1"}, nil)
	if code != 200 {
		t.Fatalf("download %d %s", code, raw)
	}
	h, err := wire.DecodeSignedHotlist(bytes.NewReader(raw), a.Pub)
	if err != nil || h.Generation != 1 || len(h.Entries) != 2 || h.Entries[0].VRM != "AB12CDE" || h.Entries[1].Priority != backoffice.DefaultPriority {
		t.Fatalf("download %v %+v", err, h)
	}
	rep, _ := backoffice.VerifyAudit(context.Background(), a.Store)
	// publish, search, refused search, authorisation.
	if !rep.OK || rep.Events != 4 {
		t.Fatalf("audit %+v", rep)
	}
}
