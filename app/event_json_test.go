package app_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
)

func TestJSONEncoderLines(t *testing.T) {
	at := time.Date(2026, 3, 4, 9, 15, 2, 345_000_000, time.UTC)
	read := app.Read{ID: "0b7c1e9a-2f4d-4c1b-9a55-3f1d2e4c5b6a", VRM: "AB12CDE", Raw: "AB12 CDE", Confidence: 0.97,
		Time: at, Camera: "front", Position: app.Position{Fix: app.Fix3D, Lat: 52.9225, Lon: -1.4746,
			Age: 250 * time.Millisecond, SpeedMPS: 13.4, HeadingDeg: 271.5}}
	noFix := read
	noFix.Position = app.Position{Fix: app.FixNone, Age: 7 * time.Second, HeadingDeg: math.NaN()}
	hit := &app.Hit{ReadID: read.ID, Time: at.Add(time.Hour), Matches: []app.Match{{
		Kind: app.MatchLookalike, Entry: app.HotlistEntry{List: "pnc", VRM: "AB12CDE", Category: "stolen",
			Priority: 1, Action: "Stop and detain", Covert: false}}}}
	tests := []struct {
		name string
		ev   app.Event
		want string
	}{
		{"read, no match", app.Event{Type: app.EventRead, Read: &read},
			`{"type":"read","id":"0b7c1e9a-2f4d-4c1b-9a55-3f1d2e4c5b6a","vrm":"AB12CDE","raw":"AB12 CDE","confidence":0.97,"time":"2026-03-04T09:15:02.345Z","camera":"front","lat":52.9225,"lon":-1.4746,"fix":"3d","fix_age_ms":250,"speed_mps":13.4,"heading_deg":271.5,"match":null}`},
		{"read, match", app.Event{Type: app.EventRead, Read: &read, Hit: hit},
			`{"type":"read","id":"0b7c1e9a-2f4d-4c1b-9a55-3f1d2e4c5b6a","vrm":"AB12CDE","raw":"AB12 CDE","confidence":0.97,"time":"2026-03-04T09:15:02.345Z","camera":"front","lat":52.9225,"lon":-1.4746,"fix":"3d","fix_age_ms":250,"speed_mps":13.4,"heading_deg":271.5,"match":{"kind":"lookalike","list":"pnc","entry":"AB12CDE","category":"stolen","priority":1,"action":"Stop and detain","covert":false}}`},
		{"read, no fix", app.Event{Type: app.EventRead, Read: &noFix},
			`{"type":"read","id":"0b7c1e9a-2f4d-4c1b-9a55-3f1d2e4c5b6a","vrm":"AB12CDE","raw":"AB12 CDE","confidence":0.97,"time":"2026-03-04T09:15:02.345Z","camera":"front","lat":null,"lon":null,"fix":"none","fix_age_ms":7000,"speed_mps":null,"heading_deg":null,"match":null}`},
		{"past hit", app.Event{Type: app.EventPastHit, Read: &read, Hit: hit},
			`{"type":"past-hit","id":"0b7c1e9a-2f4d-4c1b-9a55-3f1d2e4c5b6a","vrm":"AB12CDE","raw":"AB12 CDE","confidence":0.97,"time":"2026-03-04T09:15:02.345Z","camera":"front","lat":52.9225,"lon":-1.4746,"fix":"3d","fix_age_ms":250,"speed_mps":13.4,"heading_deg":271.5,"match":{"kind":"lookalike","list":"pnc","entry":"AB12CDE","category":"stolen","priority":1,"action":"Stop and detain","covert":false},"raised":"2026-03-04T10:15:02.345Z"}`},
		{"gps status", app.Event{Type: app.EventStatus, Status: &app.PartStatus{Part: app.PartGPS, State: app.StateLost,
			Detail: "no fix for 12 s", Updated: at, Fix: app.FixNone, FixAge: 12 * time.Second}},
			`{"type":"status","part":"gps","state":"lost","detail":"no fix for 12 s","updated":"2026-03-04T09:15:02.345Z","fix":"none","fix_age_ms":12000}`},
		{"camera status", app.Event{Type: app.EventStatus, Status: &app.PartStatus{Part: app.PartCamera, ID: "front",
			State: app.StateOK, Updated: at, FPS: 25, Dropped: 3}},
			`{"type":"status","part":"camera","id":"front","state":"ok","updated":"2026-03-04T09:15:02.345Z","fps":25,"dropped":3}`},
		{"clock status", app.Event{Type: app.EventStatus, Status: &app.PartStatus{Part: app.PartClock, State: app.StateOK,
			Updated: at, ClockSource: app.ClockGPS, ClockOffset: -40 * time.Millisecond}},
			`{"type":"status","part":"clock","state":"ok","updated":"2026-03-04T09:15:02.345Z","clock_source":"gps","clock_offset_ms":-40,"clock_suspect":false}`},
		{"hotlist status", app.Event{Type: app.EventStatus, Status: &app.PartStatus{Part: app.PartHotlist, State: app.StateOK,
			Updated: at, Entries: 1200, Lists: 2, ListsLoaded: at.Add(-time.Hour), Generation: 7}},
			`{"type":"status","part":"hotlist","state":"ok","updated":"2026-03-04T09:15:02.345Z","entries":1200,"lists":2,"lists_loaded":"2026-03-04T08:15:02.345Z","generation":7}`},
		{"sync status", app.Event{Type: app.EventStatus, Status: &app.PartStatus{Part: app.PartSync, State: app.StateLost,
			Updated: at, Pending: 0}},
			`{"type":"status","part":"sync","state":"lost","updated":"2026-03-04T09:15:02.345Z","pending":0}`},
		{"hit not written (the read line carries it)", app.Event{Type: app.EventHit, Read: &read, Hit: hit}, ``},
		{"ack not written", app.Event{Type: app.EventAck, ReadID: read.ID}, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := app.NewJSONEncoder(&buf).Encode(tc.ev); err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if buf.Len() != 0 {
					t.Fatalf("wrote %q", buf.String())
				}
				return
			}
			got := buf.String()
			if !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
				t.Fatalf("not one line: %q", got)
			}
			if got = strings.TrimSuffix(got, "\n"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(got), &m); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestJSONReadKeys pins the read line's keys to DESIGN.md's list.
func TestJSONReadKeys(t *testing.T) {
	var buf bytes.Buffer
	r := app.Read{ID: "x", Time: time.Unix(0, 0)}
	if err := app.NewJSONEncoder(&buf).Encode(app.Event{Type: app.EventRead, Read: &r}); err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	want := strings.Fields("type id vrm raw confidence time camera lat lon fix fix_age_ms speed_mps heading_deg match")
	if len(m) != len(want) {
		t.Errorf("%d keys, want %d: %s", len(m), len(want), buf.String())
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, buf.String())
		}
	}
}
