package vrm

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
)

// now is the reference time of the tests: September 2026 identifiers (76)
// are issued, March 2027 (27) are not.
var now = time.Date(2026, time.November, 21, 12, 0, 0, 0, time.UTC)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"BD51 SMR", "BD51SMR"},
		{"bd51smr", "BD51SMR"},
		{" bd-51.smr ", "BD51SMR"},
		{"ＢＤ５１ ＳＭＲ", "BD51SMR"},      // fullwidth
		{"ВD51 SМR", "BD51SMR"},      // Cyrillic В and М
		{"ΑΒ12 ΕΚΜ", "AB12EKM"},      // Greek capitals
		{"ав12 ех", "AB12EX"},        // Cyrillic small letters
		{"AB12\u00a0CDE", "AB12CDE"}, // no-break space
		{"AB12\u2013CDE", "AB12CDE"}, // en dash
		{"AB12*CDE?", "AB12CDE"},     // wildcards dropped
		{"AB12\xffCDE", "AB12CDE"},   // invalid UTF-8 dropped
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizePattern(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"AB12 *", "AB12*"},
		{"ab?2 c**de", "AB?2C*DE"},
		{"ＡＢ＊", "AB*"},
		{"A-B-C", "ABC"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NormalizePattern(tt.in); got != tt.want {
				t.Errorf("NormalizePattern(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		pattern bool
		want    string
		err     error
	}{
		{in: "BD51 SMR", want: "BD51SMR"},
		{in: "  k50-wtb ", want: "K50WTB"},
		{in: "", err: ErrEmpty},
		{in: " - ", err: ErrEmpty},
		{in: "AB12#CDE", err: ErrInvalidChar},
		{in: "AB12ÉDE", err: ErrInvalidChar},
		{in: "AB12\xffCDE", err: ErrInvalidChar},
		{in: "AB12*", err: ErrInvalidChar}, // wildcard where none allowed
		{in: "ABCDEFGHIJK", err: ErrTooLong},
		{in: "ABCDEFGHIJ", want: "ABCDEFGHIJ"},
		{in: "AB12 *", pattern: true, want: "AB12*"},
		{in: "?D51 SMR", pattern: true, want: "?D51SMR"},
		{in: "*", pattern: true, err: ErrPattern},
		{in: "A*", pattern: true, err: ErrPattern},
		{in: "AB*CDEFGHIJKLMNOP", pattern: true, err: ErrTooLong},
		{in: "BD51SMR", pattern: true, want: "BD51SMR"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			parse := Parse
			if tt.pattern {
				parse = ParsePattern
			}
			got, err := parse(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("parse(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestClassifyPublishedExamples(t *testing.T) {
	// Examples printed by DVLA (INF104), GOV.UK and registration dealers'
	// guides to the formats, plus the first marks of famous series.
	tests := []struct {
		mark string
		want app.Format
	}{
		{"BD51 SMR", app.FormatCurrent}, // DVLA INF104's example
		{"SR60 BMD", app.FormatCurrent}, // Dundee, September 2010
		{"CA22 ABC", app.FormatCurrent}, // Cardiff, March 2022
		{"SK54 MPK", app.FormatCurrent},
		{"BD21 XYZ", app.FormatCurrent},
		{"AB14 XYZ", app.FormatCurrent},
		{"XA51 ABC", app.FormatCurrent}, // personal export series
		{"A123 BCD", app.FormatPrefix},
		{"K50 WTB", app.FormatPrefix},
		{"X666 EON", app.FormatPrefix},
		{"A567 TRD", app.FormatPrefix},
		{"D456 XYZ", app.FormatUnknown}, // a guide's made-up example: Z is Irish, never in a GB area code
		{"ABC 123D", app.FormatSuffix},
		{"TRD 567A", app.FormatSuffix},
		{"A 1", app.FormatDateless}, // London, 1903
		{"AM 51", app.FormatDateless},
		{"AB 1234", app.FormatDateless},
		{"ABC 123", app.FormatDateless},
		{"1234 AB", app.FormatDateless}, // reversed sequence
		{"123 ABC", app.FormatDateless},
		{"AIW 1", app.FormatNI}, // County Londonderry, 1973
		{"1 IA", app.FormatNI},  // Antrim's first reversed mark, 1958
		{"ABZ 1234", app.FormatNI},
		{"KZ 1234", app.FormatNI},
		{"AXI 9998", app.FormatNI},
		{"BD51 SM", app.FormatUnknown},
		{"Q123 ABC", app.FormatUnknown},  // Q plates: vehicle of unknown age
		{"B-AB 1234", app.FormatUnknown}, // German
		{"1234ABZ", app.FormatUnknown},   // NI serial letter never after digits
		{"AIZ 1234", app.FormatUnknown},  // IZ is not an NI code
		{"WP 12345", app.FormatUnknown},
		{"0123 AB", app.FormatUnknown}, // leading zero
		{"", app.FormatUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.mark, func(t *testing.T) {
			if got := Classify(tt.mark, now); got != tt.want {
				t.Errorf("Classify(%q) = %s, want %s", tt.mark, got, tt.want)
			}
		})
	}
}

func TestClassifyLettersNeverUsed(t *testing.T) {
	tests := []struct {
		mark string
		want app.Format
	}{
		{"AB12 CDZ", app.FormatCurrent}, // Z is a random letter
		{"AB12 CDI", app.FormatUnknown}, // I is not
		{"AB12 QDE", app.FormatUnknown}, // nor Q
		{"ZA12 CDE", app.FormatUnknown}, // Z never in the memory tag
		{"AZ12 CDE", app.FormatUnknown},
		{"IA12 CDE", app.FormatUnknown},
		{"QA12 CDE", app.FormatUnknown},
		{"TA12 CDE", app.FormatUnknown}, // T is not a region letter
		{"I123 ABC", app.FormatUnknown}, // I, O, Q, U, Z never year letters
		{"O123 ABC", app.FormatUnknown},
		{"U123 ABC", app.FormatUnknown},
		{"Z123 ABC", app.FormatUnknown},
		{"A123 ABZ", app.FormatUnknown},
		{"ABC 123U", app.FormatUnknown},
		{"ABI 123A", app.FormatUnknown},
		{"A0 CDE", app.FormatUnknown},
		{"A012 BCD", app.FormatUnknown}, // no leading zero in a serial
		{"ABQ 12", app.FormatUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.mark, func(t *testing.T) {
			if got := Classify(tt.mark, now); got != tt.want {
				t.Errorf("Classify(%q) = %s, want %s", tt.mark, got, tt.want)
			}
		})
	}
}

func TestClassifyAgeIdentifier(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		mark string
		at   time.Time
		want app.Format
	}{
		{"AB51 CDE", day(2001, time.August, 31), app.FormatUnknown},
		{"AB51 CDE", day(2001, time.September, 1), app.FormatCurrent},
		{"AB02 CDE", day(2002, time.February, 28), app.FormatUnknown},
		{"AB02 CDE", day(2002, time.March, 1), app.FormatCurrent},
		{"AB01 CDE", now, app.FormatUnknown}, // never issued
		{"AB50 CDE", now, app.FormatUnknown}, // March 2050
		{"AB00 CDE", now, app.FormatUnknown}, // September 2050
		{"AB26 CDE", now, app.FormatCurrent},
		{"AB76 CDE", now, app.FormatCurrent},
		{"AB27 CDE", now, app.FormatUnknown}, // future
		{"AB77 CDE", now, app.FormatUnknown},
		{"AB99 CDE", now, app.FormatUnknown},
		{"AB76 CDE", day(2026, time.August, 31), app.FormatUnknown},
		{"AB26 CDE", time.Date(2026, time.February, 28, 23, 59, 59, 0, time.UTC), app.FormatUnknown},
		{"AB26 CDE", day(2026, time.March, 1), app.FormatCurrent},
		{"AB50 CDE", day(2050, time.March, 1), app.FormatCurrent},
		{"AB00 CDE", day(2050, time.September, 1), app.FormatCurrent},
	}
	for _, tt := range tests {
		t.Run(tt.mark+"@"+tt.at.Format("2006-01-02"), func(t *testing.T) {
			if got := Classify(tt.mark, tt.at); got != tt.want {
				t.Errorf("Classify(%q, %s) = %s, want %s", tt.mark, tt.at, got, tt.want)
			}
		})
	}
}

func TestRepair(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		want  string
		fixes []Fix
	}{
		{"O in age identifier", "AB1O CDE", "AB10CDE", []Fix{{3, 'O', '0'}}},
		{"D in age identifier", "BD5I SMR", "BD51SMR", []Fix{{3, 'I', '1'}}},
		{"G in age identifier", "SRG0 BMD", "SR60BMD", []Fix{{2, 'G', '6'}}},
		{"S and O in age identifier", "AB SO CDE", "ABSOCDE", nil}, // 50 not issued yet
		{"Z and T", "CAZT ABC", "CAZTABC", nil},                    // 27 not issued yet
		{"two letters in age", "CAZS ABC", "CA25ABC", []Fix{{2, 'Z', '2'}, {3, 'S', '5'}}},
		{"0 in random letters", "AB12 C0E", "AB12COE", []Fix{{5, '0', 'O'}}},
		{"0 as memory tag", "0X12 CDE", "OX12CDE", []Fix{{0, '0', 'O'}}},
		{"0 that can only be D", "0123 ABC", "D123ABC", []Fix{{0, '0', 'D'}}},
		{"8 in letters", "AB12 C8E", "AB12CBE", []Fix{{5, '8', 'B'}}},
		{"1 never becomes I", "AB12 C1E", "AB12C1E", nil},
		{"suffix year letter", "ABC 1238", "ABC123B", []Fix{{6, '8', 'B'}}},
		{"prefix serial digit", "KSO WTB", "K50WTB", []Fix{{1, 'S', '5'}, {2, 'O', '0'}}},
		{"two letters in age and 0 in random", "ABIO COE", "AB10COE", []Fix{{2, 'I', '1'}, {3, 'O', '0'}}},
		{"three fixes refused", "ABIO C0E", "ABIOC0E", nil},
		{"already valid current", "BD51 SMR", "BD51SMR", nil},
		{"dateless left alone", "ABC 123", "ABC123", nil},
		{"dateless with O left alone", "AB 1234", "AB1234", nil},
		{"NI left alone", "ABZ 1234", "ABZ1234", nil},
		{"NI reversed left alone", "1 IA", "1IA", nil},
		{"future age identifier not invented", "AC8O CDE", "AC8OCDE", nil},
		{"no layout", "HELLO WORLD", "HELLOWORLD", nil},
		{"empty", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fixes := Repair(tt.raw, now)
			if got != tt.want || !reflect.DeepEqual(fixes, tt.fixes) {
				t.Errorf("Repair(%q) = %q %v, want %q %v", tt.raw, got, fixes, tt.want, tt.fixes)
			}
		})
	}
}

func TestRepairAmbiguous(t *testing.T) {
	// "K5S18BC" is 2 fixes from the prefix mark K551 BBC and 2 fixes from
	// the suffix mark KSS 188C: Repair must not pick one.
	const raw = "K5S18BC"
	var outs []string
	for _, tp := range templates {
		if len(tp.shape) == len(raw) {
			if out, _, ok := repairInto(raw, tp, now); ok {
				outs = append(outs, out)
			}
		}
	}
	if want := []string{"K551BBC", "KSS188C"}; !reflect.DeepEqual(outs, want) {
		t.Fatalf("layouts repair %q into %v, want %v", raw, outs, want)
	}
	if got, fixes := Repair(raw, now); got != raw || fixes != nil {
		t.Errorf("Repair(%q) = %q %v, want it unchanged", raw, got, fixes)
	}
}

func TestFold(t *testing.T) {
	classes := []string{"0ODQ", "1IL", "8B", "5S", "2Z", "6G", "4A", "7T"}
	for _, class := range classes {
		for i := 0; i < len(class); i++ {
			if got := Fold(class[i]); got != class[0] {
				t.Errorf("Fold(%q) = %q, want %q", class[i], got, class[0])
			}
		}
	}
	for _, c := range []byte("CEFHJKMNPRUVWXY39") {
		if got := Fold(c); got != c {
			t.Errorf("Fold(%q) = %q, want itself", c, got)
		}
	}
	if got := FoldString("BD51SMR"); got != "80515MR" {
		t.Errorf("FoldString = %q", got)
	}
}

func TestLookalike(t *testing.T) {
	tests := []struct {
		read, mark string
		diff       []int
		ok         bool
	}{
		{"AB12CDE", "AB12CDE", nil, true},
		{"A812CDE", "AB12CDE", []int{1}, true},
		{"A812C0E", "AB12CDE", []int{1, 5}, true},
		{"AB12CDF", "AB12CDE", nil, false},
		{"AB12CD", "AB12CDE", nil, false},
		{"QB12CDE", "OB12CDE", []int{0}, true}, // Q and O share a class
	}
	for _, tt := range tests {
		t.Run(tt.read+"/"+tt.mark, func(t *testing.T) {
			diff, ok := Lookalike(tt.read, tt.mark)
			if ok != tt.ok || !reflect.DeepEqual(diff, tt.diff) {
				t.Errorf("Lookalike = %v %v, want %v %v", diff, ok, tt.diff, tt.ok)
			}
		})
	}
}
