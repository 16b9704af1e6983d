package hotlist

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/vrm"
)

// readAll reads every entry and every line error.
func readAll(t testing.TB, data string, opts ReaderOptions) ([]app.HotlistEntry, []*LineError, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(data), opts)
	if err != nil {
		return nil, nil, err
	}
	var entries []app.HotlistEntry
	var bad []*LineError
	for {
		e, err := r.Next()
		var le *LineError
		switch {
		case err == io.EOF:
			return entries, bad, nil
		case errors.As(err, &le):
			bad = append(bad, le)
		case err != nil:
			return entries, bad, err
		default:
			entries = append(entries, e)
		}
	}
}

func TestReaderFullRow(t *testing.T) {
	data := "\ufeffVRM,Category,PRIORITY,action,information,markers,make,model,Color,reference,expiry,covert\r\n" +
		`bd51 smr,Stolen,2,"Stop, check","Seen at ""the"" depot` + "\n" + `twice",firearms; violence|drugs,FORD,FOCUS,BLUE,PNC/1,2026-12-31,yes` + "\r\n"
	entries, bad, err := readAll(t, data, ReaderOptions{List: "pnc"})
	if err != nil || len(bad) != 0 {
		t.Fatalf("err %v, bad lines %v", err, bad)
	}
	want := app.HotlistEntry{
		List: "pnc", VRM: "BD51SMR", Category: "Stolen", Priority: 2, Action: "Stop, check",
		Information: "Seen at \"the\" depot\ntwice", Markers: []string{"firearms", "violence", "drugs"},
		Make: "FORD", Model: "FOCUS", Colour: "BLUE", Reference: "PNC/1",
		Expires: time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC), Covert: true,
	}
	if len(entries) != 1 || !reflect.DeepEqual(entries[0], want) {
		t.Errorf("entries = %+v\nwant      %+v", entries, want)
	}
}

func TestReaderDefaults(t *testing.T) {
	entries, bad, err := readAll(t, "vrm\nAB12CDE\n\n  \nAB12*\n", ReaderOptions{List: "l", Priority: 3})
	if err != nil || len(bad) != 0 {
		t.Fatalf("err %v, bad %v", err, bad)
	}
	if len(entries) != 2 || entries[0].Priority != 3 || entries[1].VRM != "AB12*" || entries[0].Covert {
		t.Errorf("entries = %+v", entries)
	}
	entries, _, _ = readAll(t, "vrm,priority\nAB12CDE,\n", ReaderOptions{})
	if len(entries) != 1 || entries[0].Priority != DefaultPriority {
		t.Errorf("empty priority cell: %+v", entries)
	}
}

func TestReaderHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		opts ReaderOptions
		err  error
	}{
		{"empty file", "", ReaderOptions{}, ErrEmptyFile},
		{"only a byte-order mark and blank lines", "\ufeff\n\n \r\n", ReaderOptions{}, ErrEmptyFile},
		{"no vrm column", "category,priority\nStolen,1\n", ReaderOptions{}, ErrNoVRMColumn},
		{"unknown column", "vrm,colour,owner\nAB12CDE,RED,x\n", ReaderOptions{}, ErrUnknownColumn},
		{"duplicate column", "vrm,Category,CATEGORY\n", ReaderOptions{}, ErrDuplicateColumn},
		{"duplicate by alias", "vrm,colour,color\n", ReaderOptions{}, ErrDuplicateColumn},
		{"UTF-16 little-endian", "\xff\xfev\x00r\x00m\x00\n\x00", ReaderOptions{}, ErrEncoding},
		{"UTF-16 big-endian", "\xfe\xff\x00v\x00r\x00m", ReaderOptions{}, ErrEncoding},
		{"UTF-16 without a byte-order mark", "v\x00r\x00m\x00\n\x00", ReaderOptions{}, ErrEncoding},
		{"Latin-1 header", "vrm,cat\xe9gorie\n", ReaderOptions{IgnoreExtra: true}, ErrEncoding},
		{"header too long", "vrm," + strings.Repeat("x", 5000) + "\n", ReaderOptions{IgnoreExtra: true}, ErrLineTooLong},
		{"bad default priority", "vrm\n", ReaderOptions{Priority: 10}, ErrBadPriority},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.data), tt.opts)
			if !errors.Is(err, tt.err) {
				t.Errorf("NewReader error = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestReaderIgnoreExtra(t *testing.T) {
	entries, bad, err := readAll(t, "owner,vrm,notes\nx,AB12CDE,y\n", ReaderOptions{IgnoreExtra: true})
	if err != nil || len(bad) != 0 || len(entries) != 1 || entries[0].VRM != "AB12CDE" {
		t.Errorf("entries %+v, bad %v, err %v", entries, bad, err)
	}
}

func TestReaderLineErrors(t *testing.T) {
	data := strings.Join([]string{
		"vrm,priority,expires,covert", // 1
		"AB12CDE,1,2026-12-31,false",  // 2 good
		",1,,",                        // 3 empty vrm
		"AB#12,1,,",                   // 4 invalid character
		"ABCDEFGHJKLM,1,,",            // 5 too long
		"AB12CDE,0,,",                 // 6 priority out of range
		"AB12CDE,high,,",              // 7 priority not a number
		"AB12CDE,1,31/12/2026,",       // 8 not ISO-8601
		"AB12CDE,1,2026-02-30,",       // 9 no such date
		"AB12CDE,1,,maybe",            // 10 bad covert
		"AB12CDE,1",                   // 11 too few fields
		"AB12CDE,1,,,extra",           // 12 too many fields
		"AB12C\xe9E,1,,",              // 13 Latin-1
		"AB12CDE," + strings.Repeat("9", 5000) + ",,", // 14 line too long
		`"AB12CDE"x,1,,`, // 15 text after a closing quote
		`AB"12,1,,`,      // 16 quote inside a field
		"*,1,,",          // 17 pattern with no letters
		"BD51 SMR,9,2026-12-31T18:30:00+01:00,TRUE", // 18 good
		`"unclosed,1,,`, // 19 quote never closed
	}, "\n")
	entries, bad, err := readAll(t, data, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].VRM != "AB12CDE" || entries[1].VRM != "BD51SMR" {
		for _, b := range bad {
			t.Log(b)
		}
		t.Fatalf("entries = %+v", entries)
	}
	if want := time.Date(2026, 12, 31, 17, 30, 0, 0, time.UTC); !entries[1].Expires.Equal(want) || !entries[1].Covert {
		t.Errorf("entry on line 18 = %+v", entries[1])
	}
	want := []struct {
		line  int
		field string
		err   error
	}{
		{3, "vrm", ErrBadVRM}, {4, "vrm", ErrBadVRM}, {5, "vrm", ErrBadVRM},
		{6, "priority", ErrBadPriority}, {7, "priority", ErrBadPriority},
		{8, "expires", ErrBadDate}, {9, "expires", ErrBadDate},
		{10, "covert", ErrBadCovert},
		{11, "", ErrFieldCount}, {12, "", ErrFieldCount},
		{13, "", ErrEncoding}, {14, "", ErrLineTooLong},
		{15, "", ErrQuote}, {16, "", ErrQuote}, {17, "vrm", ErrBadVRM}, {19, "", ErrQuote},
	}
	if len(bad) != len(want) {
		for _, b := range bad {
			t.Log(b)
		}
		t.Fatalf("%d bad lines, want %d", len(bad), len(want))
	}
	for i, w := range want {
		b := bad[i]
		if b.Line != w.line || b.Field != w.field || !errors.Is(b, w.err) || b.Reason == "" {
			t.Errorf("bad line %d = %+v (%v), want line %d field %q %v", i, b, b, w.line, w.field, w.err)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"2026-12-31", utc(2027, 1, 1, 0, 0), true},
		{"2026-12-31T18:00:00Z", utc(2026, 12, 31, 18, 0), true},
		{"2026-12-31T18:00Z", utc(2026, 12, 31, 18, 0), true},
		{"2026-06-30T18:00:00+01:00", utc(2026, 6, 30, 17, 0), true},
		{"2026-12-31 18:00", utc(2026, 12, 31, 18, 0), true},
		{"2026-12-31T18:00:00.5", utc(2026, 12, 31, 18, 0).Add(500 * time.Millisecond), true},
		{"31/12/2026", time.Time{}, false},
		{"2026-13-01", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseExpiry(tt.in)
			if (err == nil) != tt.ok || !got.Equal(tt.want) {
				t.Errorf("ParseExpiry(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestGeneratedCSVReadsBack(t *testing.T) {
	g := NewGenerator(7, t0)
	var buf bytes.Buffer
	if err := g.WriteCSV(&buf, 2000, 20); err != nil {
		t.Fatal(err)
	}
	entries, bad, err := readAll(t, buf.String(), ReaderOptions{List: "gen"})
	if err != nil || len(bad) != 0 {
		t.Fatalf("err %v, bad %v", err, bad)
	}
	if len(entries) != 2020 {
		t.Fatalf("%d entries, want 2020", len(entries))
	}
	formats := map[app.Format]int{}
	for i, e := range entries[:2000] {
		want := g.Entry(int64(i))
		if e.VRM != want.VRM || e.Priority != want.Priority || !e.Expires.Equal(want.Expires) || e.Covert != want.Covert {
			t.Fatalf("entry %d = %+v, want %+v", i, e, want)
		}
		formats[vrm.Classify(e.VRM, t0)]++
	}
	// The generator claims marks of every format, mostly current.
	for _, f := range []app.Format{app.FormatCurrent, app.FormatPrefix, app.FormatSuffix,
		app.FormatDateless, app.FormatNI} {
		if formats[f] == 0 {
			t.Errorf("no %s marks generated: %v", f, formats)
		}
	}
	if formats[app.FormatCurrent] < 1400 {
		t.Errorf("current-format marks %d of 2000, want about 80%%", formats[app.FormatCurrent])
	}
	for _, e := range entries[2000:] {
		if !e.IsPattern() {
			t.Errorf("generated pattern %q has no wildcard", e.VRM)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add("vrm,priority,expires,covert,markers\nAB12CDE,1,2026-12-31,true,a;b\n")
	f.Add("\ufeffVRM\r\n\"AB12*\"\r\n")
	f.Add("vrm,information\nAB12CDE,\"multi\nline\"\n")
	f.Add("vrm\n\"unclosed\n")
	f.Add("\xff\xfev\x00")
	f.Add("vrm,x\n")
	f.Fuzz(func(t *testing.T, data string) {
		r, err := NewReader(strings.NewReader(data), ReaderOptions{IgnoreExtra: true, MaxLineBytes: 256})
		if err != nil {
			return
		}
		for range 10000 {
			e, err := r.Next()
			if err == io.EOF {
				return
			}
			var le *LineError
			if errors.As(err, &le) {
				if le.Line < 1 || le.Reason == "" {
					t.Fatalf("line error without line or reason: %+v", le)
				}
				continue
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if e.IsPattern() {
				if _, err := vrm.ParsePattern(e.VRM); err != nil || vrm.NormalizePattern(e.VRM) != e.VRM {
					t.Fatalf("accepted bad pattern %q", e.VRM)
				}
			} else if p, err := vrm.Parse(e.VRM); err != nil || p != e.VRM {
				t.Fatalf("accepted bad vrm %q", e.VRM)
			}
			if e.Priority < 1 || e.Priority > 9 {
				t.Fatalf("accepted priority %d", e.Priority)
			}
			for _, s := range []string{e.Category, e.Action, e.Information, e.Reference} {
				if !utf8.ValidString(s) {
					t.Fatalf("accepted invalid UTF-8 %q", s)
				}
			}
		}
		t.Fatal("Next did not reach the end")
	})
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"AB12*", "AB12CDE", true},
		{"AB12*", "AB12", true},
		{"AB12*", "AB1", false},
		{"*CDE", "AB12CDE", true},
		{"*CDE", "AB12CDF", false},
		{"?B12CDE", "XB12CDE", true},
		{"?B12CDE", "B12CDE", false},
		{"A*1*E", "AB12CDE", true},
		{"A*1*F", "AB12CDE", false},
		{"A??", "ABC", true},
		{"A??", "ABCD", false},
		{"*A*A*A*B", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC", false},
		{"", "", true},
		{"*", "", true},
		{"AB*B", "AB", false}, // prefix and suffix overlap
		{"A*A", "A", false},
		{"A*A", "AA", true},
		{"AB?", "AB", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"/"+tt.s, func(t *testing.T) {
			if got := glob(tt.pattern, tt.s); got != tt.want {
				t.Errorf("glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
			pt := newPattern(1, tt.pattern)
			if got := pt.match(tt.s); got != tt.want {
				t.Errorf("pattern %q .match(%q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

// globRef is an obviously correct, exponential matcher to check glob by.
func globRef(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globRef(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globRef(p[1:], s[1:])
	}
	return s != "" && s[0] == p[0] && globRef(p[1:], s[1:])
}

func FuzzGlob(f *testing.F) {
	f.Add("AB12*", "AB12CDE")
	f.Add("*A?B*", "XAYBZ")
	f.Add("?*?", "AB")
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 16 || len(s) > 16 || strings.Count(p, "*") > 4 {
			return // keep the reference matcher's backtracking bounded
		}
		want := globRef(p, s)
		if got := glob(p, s); got != want {
			t.Fatalf("glob(%q, %q) = %v, want %v", p, s, got, want)
		}
		pt := newPattern(1, p)
		if got := pt.match(s); got != want {
			t.Fatalf("pattern %q .match(%q) = %v, want %v", p, s, got, want)
		}
	})
}
