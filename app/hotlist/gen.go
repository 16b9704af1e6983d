package hotlist

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/ukanpr/anpr/app"
)

// Generator makes realistic hot lists for benchmarks, demos and load tests:
// plausible UK marks of every format (mostly current, as on the road), a
// category mix like a force's ANPR feed (insurance and tax dominate, firearms
// are rare) with priorities, actions and lists to match, and a few wildcard
// patterns such as a witness's partial plate.
//
// Entry(i) depends only on Seed and i, so a benchmark Source can hand out
// ten million entries without holding them.
type Generator struct {
	Seed uint64
	Now  time.Time // age identifiers and expiry dates are relative to it
}

// NewGenerator returns a Generator for seed at now.
func NewGenerator(seed uint64, now time.Time) *Generator {
	return &Generator{Seed: seed, Now: now}
}

type category struct {
	name, list, action string
	weight             int // per 1000
	priority           [2]int
	covertPct          int
	markers            []string
	expiresDays        int // 0: no expiry
}

// categories, with weights per 1000 entries.
var categories = []category{
	{"No insurance", "mib", "Stop if able; seize under s165 RTA if no insurance confirmed", 340, [2]int{7, 8}, 0, nil, 60},
	{"No VED", "dvla", "Advise keeper; report for no VED", 240, [2]int{8, 9}, 0, nil, 45},
	{"No MOT", "dvla", "Advise keeper", 140, [2]int{9, 9}, 0, nil, 45},
	{"Stolen", "pnc", "Stop and check; vehicle reported stolen", 90, [2]int{2, 3}, 0, []string{"stolen"}, 0},
	{"Intelligence", "force-intel", "Do not stop; record location and occupants", 90, [2]int{5, 6}, 25, nil, 90},
	{"Wanted/missing", "pnc", "Stop; occupant of interest", 40, [2]int{2, 3}, 5, []string{"violence"}, 30},
	{"Disqualified driver", "pnc", "Stop if driver matches description", 30, [2]int{4, 4}, 0, nil, 180},
	{"Cloned", "pnc", "Check VIN against PNC; possible cloned plates", 15, [2]int{3, 3}, 0, []string{"cloned"}, 0},
	{"Drugs", "force-intel", "Do not stop without supervisor authority", 10, [2]int{3, 4}, 40, []string{"drugs"}, 90},
	{"Firearms", "pnc", "Do not approach; request armed response", 5, [2]int{1, 1}, 30, []string{"firearms", "violence"}, 30},
}

var (
	currentTags = func() []string {
		var tags []string
		for _, a := range "ABCDEFGHKLMNOPRSVWY" {
			for _, b := range "ABCDEFGHJKLMNOPRSTUVWXY" {
				tags = append(tags, string(a)+string(b))
			}
		}
		return tags
	}()
	randomLetters = "ABCDEFGHJKLMNOPRSTUVWXYZ"
	gbLetters     = "ABCDEFGHJKLMNOPRSTUVWXY"
	yearLetters   = "ABCDEFGHJKLMNPRSTVWXY"
	niCodes       = []string{"AZ", "BZ", "CZ", "DZ", "EZ", "FZ", "GZ", "HZ", "IA", "IB", "IG", "IJ",
		"IL", "IW", "JI", "JZ", "KZ", "LZ", "MZ", "NZ", "OI", "OZ", "PZ", "RZ", "SZ", "TZ", "UI",
		"UZ", "VZ", "WZ", "XI", "XZ", "YZ"}
	makes = []struct{ make, model string }{
		{"FORD", "FIESTA"}, {"FORD", "FOCUS"}, {"VAUXHALL", "CORSA"}, {"VOLKSWAGEN", "GOLF"},
		{"BMW", "3 SERIES"}, {"AUDI", "A3"}, {"NISSAN", "QASHQAI"}, {"TOYOTA", "YARIS"},
		{"MERCEDES-BENZ", "C CLASS"}, {"KIA", "SPORTAGE"}, {"LAND ROVER", "RANGE ROVER"},
		{"FORD", "TRANSIT"}, {"HONDA", "CIVIC"}, {"PEUGEOT", "208"}, {"TESLA", "MODEL 3"},
	}
	colours = []string{"BLACK", "WHITE", "SILVER", "GREY", "BLUE", "RED", "GREEN", "YELLOW", "ORANGE"}
)

func (g *Generator) rng(i int64) *rand.Rand {
	return rand.New(rand.NewPCG(g.Seed, uint64(i)*0x9E3779B97F4A7C15+1))
}

func pick(r *rand.Rand, s string) byte { return s[r.IntN(len(s))] }

// Mark returns the i-th generated mark: about 80% current format (with age
// identifiers already issued at Now), 11% prefix, 2% suffix, 2% dateless,
// 4% Northern Ireland and 1% foreign.
func (g *Generator) Mark(i int64) string {
	return g.mark(g.rng(i))
}

func (g *Generator) mark(r *rand.Rand) string {
	var b []byte
	num := func(maxDigits int) {
		n := 1 + r.IntN(pow10(maxDigits)-1)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	switch p := r.IntN(100); {
	case p < 80:
		b = append(b, currentTags[r.IntN(len(currentTags))]...)
		b = append(b, g.ageIdentifier(r)...)
		b = append(b, pick(r, randomLetters), pick(r, randomLetters), pick(r, randomLetters))
	case p < 91:
		b = append(b, pick(r, yearLetters))
		num(3)
		b = append(b, pick(r, gbLetters), pick(r, gbLetters), pick(r, gbLetters))
	case p < 93:
		b = append(b, pick(r, gbLetters), pick(r, gbLetters), pick(r, gbLetters))
		num(3)
		b = append(b, pick(r, yearLetters))
	case p < 95:
		n := 1 + r.IntN(3)
		for range n {
			b = append(b, pick(r, gbLetters))
		}
		num(4 - n/3)
	case p < 99:
		if r.IntN(4) > 0 {
			b = append(b, pick(r, gbLetters))
		}
		b = append(b, niCodes[r.IntN(len(niCodes))]...)
		num(4)
	default: // foreign: e.g. Polish, Irish, French-style
		const alnum = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
		n := 5 + r.IntN(4)
		for range n {
			b = append(b, pick(r, alnum))
		}
	}
	return string(b)
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// ageIdentifier picks an identifier issued by Now, newer ones likelier.
func (g *Generator) ageIdentifier(r *rand.Rand) []byte {
	now := g.Now
	if now.IsZero() {
		now = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	}
	// Half-years since September 2001.
	halves := (now.Year()-2001)*2 - 1
	if now.Month() >= time.March {
		halves++
	}
	if now.Month() >= time.September {
		halves++
	}
	h := halves - 1 - int(float64(halves)*r.Float64()*r.Float64())
	if h < 0 {
		h = 0
	}
	year := 2001 + (h+1)/2
	id := year % 100
	if h%2 == 0 { // September
		id = (id + 50) % 100
	}
	return []byte{byte('0' + id/10), byte('0' + id%10)}
}

// Entry returns the i-th generated entry, with ID i+1.
func (g *Generator) Entry(i int64) app.HotlistEntry {
	r := g.rng(i)
	e := app.HotlistEntry{ID: i + 1, VRM: g.mark(r)}
	g.details(r, &e)
	return e
}

func (g *Generator) details(r *rand.Rand, e *app.HotlistEntry) {
	w := r.IntN(1000)
	c := categories[len(categories)-1]
	for _, cat := range categories {
		if w < cat.weight {
			c = cat
			break
		}
		w -= cat.weight
	}
	e.List, e.Category, e.Action = c.list, c.name, c.action
	e.Priority = c.priority[0] + r.IntN(c.priority[1]-c.priority[0]+1)
	e.Covert = r.IntN(100) < c.covertPct
	e.Markers = c.markers
	mm := makes[r.IntN(len(makes))]
	e.Make, e.Model, e.Colour = mm.make, mm.model, colours[r.IntN(len(colours))]
	e.Reference = fmt.Sprintf("%s/%06d", strings.ToUpper(c.list), r.IntN(1000000))
	if c.expiresDays > 0 {
		// About 2% already expired, the rest expiring within the term.
		days := r.IntN(c.expiresDays) + 1
		if r.IntN(50) == 0 {
			days = -days
		}
		e.Expires = g.Now.Truncate(24*time.Hour).AddDate(0, 0, days)
	}
	if e.Covert {
		e.Action = "Covert: do not stop, do not alert; report sighting"
	}
	e.Added = g.Now
}

// Pattern returns the i-th generated wildcard entry, with ID base+i+1: a
// partial mark from a witness, with one to three characters unknown.
func (g *Generator) Pattern(base, i int64) app.HotlistEntry {
	r := g.rng(-1 - i)
	m := []byte(g.mark(r))
	for len(m) < 5 {
		m = []byte(g.mark(r))
	}
	switch r.IntN(3) {
	case 0: // unknown ending
		m = append(m[:3+r.IntN(2)], '*')
	case 1: // one or two unreadable characters
		for range 1 + r.IntN(2) {
			m[r.IntN(len(m))] = '?'
		}
	default: // unknown start
		m = append([]byte{'*'}, m[len(m)-4:]...)
	}
	e := app.HotlistEntry{ID: base + i + 1, VRM: string(m)}
	g.details(r, &e)
	e.List, e.Category, e.Priority = "force-intel", "Partial plate", 3
	e.Action = "Check against incident description"
	return e
}

// WriteCSV writes n generated entries and patterns wildcard entries as a
// hot-list CSV file with every column of Columns.
func (g *Generator) WriteCSV(w io.Writer, n, patterns int) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	rec := make([]string, len(Columns))
	write := func(e app.HotlistEntry) error {
		exp := ""
		if !e.Expires.IsZero() {
			exp = e.Expires.Format(time.RFC3339)
		}
		rec[0], rec[1], rec[2], rec[3] = e.VRM, e.Category, strconv.Itoa(e.Priority), e.Action
		rec[4], rec[5], rec[6], rec[7] = e.Information, strings.Join(e.Markers, ";"), e.Make, e.Model
		rec[8], rec[9], rec[10], rec[11] = e.Colour, e.Reference, exp, strconv.FormatBool(e.Covert)
		return cw.Write(rec)
	}
	for i := range int64(n) {
		if err := write(g.Entry(i)); err != nil {
			return err
		}
	}
	for i := range int64(patterns) {
		if err := write(g.Pattern(int64(n), i)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// GenSource is a Source of generated entries: ids 1…N are g.Entry, and
// N+1…N+Patterns are g.Pattern. It holds nothing but the generator, so it
// can stand for ten million entries in a benchmark.
type GenSource struct {
	Gen        *Generator
	N          int64
	Patterns   int64
	Generation int64
}

var _ Source = (*GenSource)(nil)

// HotlistGeneration returns s.Generation.
func (s *GenSource) HotlistGeneration(context.Context) (int64, error) { return s.Generation, nil }

// HotlistKeys lists every generated mark and pattern.
func (s *GenSource) HotlistKeys(ctx context.Context, fn func(int64, string) error) error {
	for i := range s.N {
		if i%(1<<16) == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fn(i+1, s.Gen.Mark(i)); err != nil {
			return err
		}
	}
	for i := range s.Patterns {
		p := s.Gen.Pattern(s.N, i)
		if err := fn(p.ID, p.VRM); err != nil {
			return err
		}
	}
	return nil
}

// HotlistEntries regenerates the entries with the given ids.
func (s *GenSource) HotlistEntries(_ context.Context, ids []int64) ([]app.HotlistEntry, error) {
	out := make([]app.HotlistEntry, 0, len(ids))
	for _, id := range ids {
		switch {
		case id >= 1 && id <= s.N:
			out = append(out, s.Gen.Entry(id-1))
		case id > s.N && id <= s.N+s.Patterns:
			out = append(out, s.Gen.Pattern(s.N, id-s.N-1))
		}
	}
	return out, nil
}
