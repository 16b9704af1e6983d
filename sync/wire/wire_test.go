package wire

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleBatch() *Batch {
	t := time.Date(2026, 3, 1, 12, 0, 0, 123e6, time.UTC)
	h := 90.0
	return &Batch{ID: "b1", Car: "car-1", Sent: t, Items: []Item{
		{Kind: KindHit, Hit: &Hit{ReadID: "r1", VRM: "AB12CDE", Time: t, Matches: []Match{{Kind: "exact", Candidate: "AB12CDE", Entry: Entry{List: "stolen", VRM: "AB12CDE", Priority: 1}}}}},
		{Kind: KindDecision, Decision: &Decision{ReadID: "r1", Outcome: "confirmed", Officer: "1234", Time: t}},
		{Kind: KindRead, Read: &Read{ID: "r1", VRM: "AB12CDE", Raw: "AB12 CDE", Confidence: 0.97, Time: t, Camera: "front",
			Position: Position{Fix: "3d", Lat: 52.9, Lon: -1.4, HeadingDeg: &h}, Patch: []byte{0xff, 0xd8}}},
		{Kind: KindOverview, Overview: &Overview{ReadID: "r1", JPEG: []byte{0xff, 0xd8, 0xff}}},
		{Kind: KindWanted, Wanted: &Entry{List: "car-wanted", VRM: "XY51ABC", AddedBy: "1234"}},
	}}
}

func encode(t testing.TB, b *Batch) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeBatch(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

func TestBatchRoundTrip(t *testing.T) {
	b := sampleBatch()
	got, err := DecodeBatch(bytes.NewReader(encode(t, b)), BatchContentType+"; charset=utf-8", "gzip")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 5 || got.Items[2].Read.VRM != "AB12CDE" || *got.Items[2].Read.Position.HeadingDeg != 90 ||
		!got.Items[0].Hit.Time.Equal(b.Items[0].Hit.Time) || got.Version != Version {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestDecodeBatchRefuses(t *testing.T) {
	huge := strings.Repeat("A", MaxTextLen+1)
	for _, tc := range []struct {
		name, ct, ce string
		body         []byte
		want         error
	}{
		{"wrong content type", "text/plain", "gzip", encode(t, sampleBatch()), ErrContentType},
		{"no content type", "", "gzip", encode(t, sampleBatch()), ErrContentType},
		{"wrong encoding", BatchContentType, "br", encode(t, sampleBatch()), ErrContentType},
		{"not gzip", BatchContentType, "gzip", []byte(`{"version":1}`), ErrMalformed},
		{"not json", BatchContentType, "", []byte(`hello`), ErrMalformed},
		{"no version", BatchContentType, "", []byte(`{"id":"x","items":[]}`), ErrMalformed},
		{"future version", BatchContentType, "gzip", gz(`{"version":2,"items":[{"kind":"teleport"}]}`), ErrVersion},
		{"version zero", BatchContentType, "", []byte(`{"version":0,"items":[]}`), ErrVersion},
		{"unknown field", BatchContentType, "", []byte(`{"version":1,"id":"x","bogus":1,"items":[]}`), ErrMalformed},
		{"unknown kind", BatchContentType, "", []byte(`{"version":1,"id":"x","items":[{"kind":"teleport","read":{}}]}`), ErrMalformed},
		{"kind mismatch", BatchContentType, "", []byte(`{"version":1,"id":"x","items":[{"kind":"hit","read":{"id":"r","vrm":"A","time":"2026-01-01T00:00:00Z"}}]}`), ErrMalformed},
		{"two payloads", BatchContentType, "", []byte(`{"version":1,"id":"x","items":[{"kind":"read","read":{"id":"r","vrm":"A","time":"2026-01-01T00:00:00Z"},"hit":{"read_id":"r"}}]}`), ErrMalformed},
		{"read without id", BatchContentType, "", []byte(`{"version":1,"id":"x","items":[{"kind":"read","read":{"vrm":"A","time":"2026-01-01T00:00:00Z"}}]}`), ErrMalformed},
		{"read without time", BatchContentType, "", []byte(`{"version":1,"id":"x","items":[{"kind":"read","read":{"id":"r","vrm":"A"}}]}`), ErrMalformed},
		{"long vrm", BatchContentType, "", []byte(`{"version":1,"id":"x","items":[{"kind":"read","read":{"id":"r","vrm":"` + huge + `","time":"2026-01-01T00:00:00Z"}}]}`), ErrTooLarge},
		{"bad outcome", BatchContentType, "", []byte(`{"version":1,"id":"x","items":[{"kind":"decision","decision":{"read_id":"r","outcome":"shrug","officer":"1","time":"2026-01-01T00:00:00Z"}}]}`), ErrMalformed},
		{"trailing data", BatchContentType, "", []byte(`{"version":1,"id":"x","items":[]} {}`), ErrMalformed},
		{"bad latitude", BatchContentType, "", []byte(`{"version":1,"id":"x","items":[{"kind":"read","read":{"id":"r","vrm":"A","time":"2026-01-01T00:00:00Z","position":{"lat":91}}}]}`), ErrMalformed},
		{"gzip bomb", BatchContentType, "gzip", gz(`{"version":1,"id":"` + strings.Repeat(" ", MaxBatchInflated) + `"}`), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBatch(bytes.NewReader(tc.body), tc.ct, tc.ce)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTooManyItems(t *testing.T) {
	b := &Batch{ID: "x", Items: make([]Item, MaxBatchItems+1)}
	for i := range b.Items {
		b.Items[i] = Item{Kind: KindDecision, Decision: &Decision{ReadID: "r", Outcome: "misread", Officer: "1", Time: time.Now()}}
	}
	if _, err := DecodeBatch(bytes.NewReader(encode(t, b)), BatchContentType, "gzip"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestSignedHotlist(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	h := &Hotlist{List: "stolen", Generation: 3, Published: time.Now().UTC(), Entries: []Entry{{VRM: "AB12CDE", Priority: 1}}}
	s, err := SignHotlist(h, priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Verify(pub)
	if err != nil || got.Generation != 3 || got.Entries[0].VRM != "AB12CDE" {
		t.Fatalf("verify: %v %+v", err, got)
	}
	tampered := *s
	tampered.Payload = bytes.Replace(s.Payload, []byte("AB12CDE"), []byte("AB12CDF"), 1)
	if _, err := tampered.Verify(pub); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered: %v", err)
	}
	if _, err := s.Verify(otherPub); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("wrong key: %v", err)
	}
	// Signed by another key but claiming ours: still refused.
	forged, _ := SignHotlist(h, otherPriv)
	forged.KeyID = KeyID(pub)
	if _, err := forged.Verify(pub); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged: %v", err)
	}
}

func TestDelta(t *testing.T) {
	prev := []Entry{{VRM: "A1"}, {VRM: "B2", Priority: 2}, {VRM: "C3"}}
	next := []Entry{{VRM: "A1"}, {VRM: "B2", Priority: 1}, {VRM: "D4"}}
	ch, rm := Delta(prev, next)
	if len(ch) != 2 || len(rm) != 1 || rm[0] != "C3" {
		t.Fatalf("delta %v %v", ch, rm)
	}
	got := ApplyDelta(prev, &Hotlist{Base: 1, Generation: 2, Entries: ch, Removed: rm})
	m := map[string]int{}
	for _, e := range got {
		m[e.VRM] = e.Priority
	}
	if len(got) != 3 || m["B2"] != 1 || m["D4"] != 0 || m["A1"] != 0 {
		t.Fatalf("applied %v", got)
	}
	if _, ok := m["C3"]; ok {
		t.Fatal("C3 not removed")
	}
}

// FuzzDecodeBatch feeds arbitrary bodies, compressed and not, to the decoder:
// it must never panic, and whatever it accepts must validate and re-encode.
func FuzzDecodeBatch(f *testing.F) {
	var buf bytes.Buffer
	EncodeBatch(&buf, sampleBatch())
	f.Add(buf.Bytes(), true)
	f.Add([]byte(`{"version":1,"id":"x","items":[{"kind":"read","read":{"id":"r","vrm":"A","time":"2026-01-01T00:00:00Z"}}]}`), false)
	f.Add([]byte(`{"version":2}`), false)
	f.Add([]byte(`{"version":1,"items":[{"kind":"hit","hit":{"read_id":"r","time":"2026-01-01T00:00:00Z","matches":[{"entry":{"vrm":"\u0000"}}]}}]}`), false)
	f.Fuzz(func(t *testing.T, body []byte, gzipped bool) {
		enc := ""
		if gzipped {
			enc = "gzip"
		}
		b, err := DecodeBatch(bytes.NewReader(body), BatchContentType, enc)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrContentType) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("accepted batch does not validate: %v", err)
		}
		var out bytes.Buffer
		if err := EncodeBatch(&out, b); err != nil {
			t.Fatalf("accepted batch does not encode: %v", err)
		}
	})
}

// FuzzDecodeSignedHotlist: arbitrary downloads never panic and never verify.
func FuzzDecodeSignedHotlist(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := SignHotlist(&Hotlist{List: "l", Generation: 1, Entries: []Entry{{VRM: "A"}}}, priv)
	var buf bytes.Buffer
	encodeJSON(&buf, s)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":1,"key_id":"","payload":"","signature":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := DecodeSignedHotlist(bytes.NewReader(body), pub)
		if err == nil && !bytes.Equal(body, buf.Bytes()) {
			// Only a body carrying the genuine signed payload may verify.
			if h.List != "l" || h.Generation != 1 {
				t.Fatalf("forged hot list verified: %+v", h)
			}
		}
	})
}
