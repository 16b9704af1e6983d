package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		out = append(out, v)
	}
	return out
}

const goodCSV = `VRM,Category,Priority,Action,Information,Markers,Make,Model,Colour,Reference,Expires,Covert
AB12 CDE,Stolen vehicle,1,Stop and detain,,firearms;violent,Ford,Focus,Blue,REF1,2099-01-01,false
BD51SMR,No insurance,4,Stop and advise,,,Vauxhall,Corsa,Red,REF2,,false
CX*7,Wanted,2,Intelligence only,,,,,,REF3,,true
OLD1,Stolen vehicle,1,Stop,,,,,,REF4,2001-01-01,false
`

func TestHotlistImportCheckStats(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "car.db")
	csv := writeFile(t, dir, "stolen.csv", goodCSV)

	out, errs, code := runMain(t, "hotlist", "import", "--db", db, "--list", "stolen", "--json", csv)
	if code != 0 {
		t.Fatalf("import: exit %d, stderr %q", code, errs)
	}
	res := jsonLines(t, out)
	if len(res) != 1 || res[0]["type"] != "result" || res[0]["added"] != 4.0 || res[0]["entries"] != 4.0 {
		t.Fatalf("import result = %v", res)
	}

	tests := []struct {
		vrm       string
		wantKinds []string // in order
		wantEntry string
	}{
		{"AB12CDE", []string{"exact"}, "AB12CDE"},
		{"ab12 cde", []string{"exact"}, "AB12CDE"},
		{"A812CDE", []string{"lookalike"}, "AB12CDE"}, // 8 for B
		{"A812C0E", []string{"lookalike"}, "AB12CDE"}, // two swaps
		{"A8I2C0E", nil, ""},                          // three swaps: no match
		{"CX997", []string{"wildcard"}, "CX*7"},
		{"OLD1", nil, ""}, // expired
		{"ZZ99ZZZ", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.vrm, func(t *testing.T) {
			out, errs, code := runMain(t, "hotlist", "check", "--db", db, "--json", tt.vrm)
			if code != 0 {
				t.Fatalf("check: exit %d, stderr %q", code, errs)
			}
			lines := jsonLines(t, out)
			if len(lines) != 1 {
				t.Fatalf("want one line, got %d", len(lines))
			}
			ms, _ := lines[0]["matches"].([]any)
			if len(ms) != len(tt.wantKinds) {
				t.Fatalf("matches = %v, want kinds %v", ms, tt.wantKinds)
			}
			for i, k := range tt.wantKinds {
				mm := ms[i].(map[string]any)
				if mm["kind"] != k || mm["entry"] != tt.wantEntry {
					t.Errorf("match %d = %v, want %s of %s", i, mm, k, tt.wantEntry)
				}
			}
		})
	}

	// The covert wildcard entry is reported flagged.
	out, _, _ = runMain(t, "hotlist", "check", "--db", db, "--json", "CX997")
	if m := jsonLines(t, out)[0]["matches"].([]any)[0].(map[string]any); m["covert"] != true {
		t.Errorf("covert entry not flagged: %v", m)
	}

	out, _, code = runMain(t, "hotlist", "stats", "--db", db, "--json")
	if code != 0 {
		t.Fatalf("stats: exit %d", code)
	}
	st := jsonLines(t, out)
	if len(st) != 2 || st[0]["list"] != "stolen" || st[0]["entries"] != 4.0 || st[0]["patterns"] != 1.0 ||
		st[0]["covert"] != 1.0 || st[0]["expired"] != 1.0 || st[1]["type"] != "total" {
		t.Fatalf("stats = %v", st)
	}
}

func TestHotlistImportRejectsBadFileWhole(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "car.db")
	good := writeFile(t, dir, "good.csv", "vrm,category\nAB12CDE,Stolen\n")
	if _, errs, code := runMain(t, "hotlist", "import", "--db", db, "--list", "stolen", good); code != 0 {
		t.Fatalf("import good: %d %s", code, errs)
	}
	bad := writeFile(t, dir, "bad.csv", "vrm,category,priority,expires\n"+
		"XY12ABC,Stolen,1,\n"+
		"A!!,Stolen,1,\n"+
		"XY13ABC,Stolen,12,\n"+
		"XY14ABC,Stolen,1,2027-13-45\n")

	_, errs, code := runMain(t, "hotlist", "import", "--db", db, "--list", "stolen", "--replace", bad)
	if code != 2 {
		t.Fatalf("bad file: exit %d, want 2", code)
	}
	for _, want := range []string{"line 3: vrm", "line 4: priority", "line 5: expires", "3 bad line(s); nothing was imported"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	// The old list is intact: the replacing import was rolled back whole.
	out, _, _ := runMain(t, "hotlist", "check", "--db", db, "--json", "AB12CDE", "XY12ABC")
	lines := jsonLines(t, out)
	if len(lines[0]["matches"].([]any)) != 1 || len(lines[1]["matches"].([]any)) != 0 {
		t.Fatalf("after a rejected import: %v", lines)
	}

	// With --skip-invalid the good line goes in and each bad one is reported.
	out, _, code = runMain(t, "hotlist", "import", "--db", db, "--list", "stolen", "--replace", "--skip-invalid", "--json", bad)
	if code != 0 {
		t.Fatalf("skip-invalid: exit %d", code)
	}
	lines = jsonLines(t, out)
	skipped := 0
	for _, l := range lines {
		if l["type"] == "skipped" {
			skipped++
		}
	}
	last := lines[len(lines)-1]
	if skipped != 3 || last["added"] != 1.0 || last["removed"] != 1.0 || last["entries"] != 1.0 {
		t.Fatalf("skip-invalid output: %v", lines)
	}
	out, _, _ = runMain(t, "hotlist", "check", "--db", db, "--json", "AB12CDE", "XY12ABC")
	lines = jsonLines(t, out)
	if len(lines[0]["matches"].([]any)) != 0 || len(lines[1]["matches"].([]any)) != 1 {
		t.Fatalf("after replace: %v", lines)
	}
}

func TestHotlistBadUsage(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "car.db")
	csv := writeFile(t, dir, "x.csv", "vrm\nAB12CDE\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"hotlist"}, "needs a subcommand"},
		{"unknown subcommand", []string{"hotlist", "frob"}, "unknown hotlist subcommand"},
		{"no db", []string{"hotlist", "import", "--list", "a", csv}, "--db is required"},
		{"no list", []string{"hotlist", "import", "--db", db, csv}, "--list is required"},
		{"bad priority", []string{"hotlist", "import", "--db", db, "--list", "a", "--priority", "0", csv}, "out of range"},
		{"missing csv", []string{"hotlist", "import", "--db", db, "--list", "a", filepath.Join(dir, "nope.csv")}, "nope.csv"},
		{"unknown column", []string{"hotlist", "import", "--db", db, "--list", "a", writeFile(t, dir, "u.csv", "vrm,colur\nAB12CDE,Red\n")}, "colur"},
		{"empty file", []string{"hotlist", "import", "--db", db, "--list", "a", writeFile(t, dir, "e.csv", "")}, "empty"},
		{"bad vrm to check", []string{"hotlist", "check", "--db", db, "A!B"}, "A!B"},
		{"check missing db", []string{"hotlist", "check", "--db", filepath.Join(dir, "none.db"), "AB12CDE"}, "none.db"},
		{"wanted list", []string{"hotlist", "import", "--db", db, "--list", "car-wanted", csv}, "officers add"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := runMain(t, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, errs)
			}
			if !strings.Contains(errs, tt.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("stderr = %q, want one line containing %q", errs, tt.want)
			}
		})
	}
}
