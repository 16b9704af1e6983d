package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/hotlist"
	"github.com/ukanpr/anpr/app/sqlite"
	"github.com/ukanpr/anpr/app/vrm"
)

func init() {
	register(command{
		name:    "hotlist",
		summary: "import, check and summarise the hot lists held in the car",
		run:     runHotlist,
	})
}

const hotlistUsage = `hotlist import --db FILE --list NAME [--priority N] [--replace] [--skip-invalid] [--ignore-extra] [--json] CSV
       anpr hotlist check  --db FILE [--json] VRM...
       anpr hotlist stats  --db FILE [--json]

import  loads a fleet admin's CSV (UTF-8, header row; columns vrm (required),
        category, priority, action, information, markers, make, model, colour,
        reference, expires, covert) into the named list in one transaction.
        A file with any bad line is rejected whole and every bad line listed,
        unless --skip-invalid. --replace swaps the whole list atomically;
        without it entries are added to the list or update the same VRM.
check   says which entries each VRM would match, and how (exact ✓,
        look-alike ≈, wildcard *).
stats   summarises each list: entries, patterns, covert, expired, priorities.`

func runHotlist(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(m.Stdout, "Usage: anpr %s\n", hotlistUsage)
		if len(args) == 0 {
			return badUsage("hotlist needs a subcommand: import, check or stats")
		}
		return errHelp
	}
	switch args[0] {
	case "import":
		return hotlistImport(ctx, m, args[1:])
	case "check":
		return hotlistCheck(ctx, m, args[1:])
	case "stats":
		return hotlistStats(ctx, m, args[1:])
	}
	return badUsage("unknown hotlist subcommand %q: want import, check or stats", args[0])
}

// snapshotPath is where the matching index of a database is kept so that the
// app is ready to match at once after start.
func snapshotPath(db string) string { return db + ".index" }

// openExisting opens a car database that must already exist: a command that
// only reads must not create an empty one from a mistyped path.
func openExisting(path string) (*sqlite.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, asUsage(fmt.Errorf("open database: %w", err))
	}
	return sqlite.Open(path)
}

// openMatcher opens the hot-list matcher over db, rebuilding its snapshot when
// the lists changed since it was written.
func openMatcher(ctx context.Context, db *sqlite.DB) (*hotlist.Matcher, error) {
	return hotlist.Open(ctx, db, snapshotPath(db.Path()))
}

func hotlistImport(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("hotlist import", "hotlist import --db FILE --list NAME [options] CSV", m.Stdout)
	dbPath := fs.String("db", "", "the car's database `file` (created if missing)")
	list := fs.String("list", "", "the list `name` to load into, e.g. stolen, no-insurance")
	priority := fs.Int("priority", 5, "priority (1 highest … 9) for rows with no priority column or cell")
	replace := fs.Bool("replace", false, "replace the whole list atomically instead of adding to it")
	skip := fs.Bool("skip-invalid", false, "import the good lines and report each bad one instead of rejecting the file")
	extra := fs.Bool("ignore-extra", false, "ignore columns this program does not know instead of rejecting the file")
	asJSON := fs.Bool("json", false, "print results as JSON lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *dbPath == "":
		return badUsage("--db is required")
	case *list == "":
		return badUsage("--list is required")
	case *priority < 1 || *priority > 9:
		return badUsage("--priority %d is out of range 1..9", *priority)
	case fs.NArg() != 1:
		return badUsage("import needs exactly one CSV file, got %d", fs.NArg())
	}
	name := strings.TrimSpace(*list)
	if name == app.WantedListName {
		return badUsage("list %q holds entries officers add in the car; import into another list", name)
	}
	csvPath := fs.Arg(0)

	f, err := os.Open(csvPath)
	if err != nil {
		return asUsage(fmt.Errorf("open hot list: %w", err))
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	counted := &countingReader{r: f}
	var bar *progressBar
	if isTerminal(m.Stderr) && !*asJSON {
		bar = newProgressBar(m.Stderr, "importing "+filepath.Base(csvPath), size)
	}

	rd, err := hotlist.NewReader(counted, hotlist.ReaderOptions{List: name, Priority: *priority, IgnoreExtra: *extra})
	if err != nil {
		return asUsage(fmt.Errorf("%s: %w", csvPath, err))
	}

	db, err := sqlite.Open(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()

	start := time.Now()
	imp, err := db.BeginImport(ctx, name, *replace)
	if err != nil {
		return err
	}
	imp.Actor = "admin"
	defer imp.Rollback() // a no-op after Commit

	var bad []hotlist.LineError
	rows := 0
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var lineErr *hotlist.LineError
		if errors.As(err, &lineErr) {
			rows++
			bad = append(bad, *lineErr)
			continue
		}
		if err != nil {
			return asUsage(fmt.Errorf("%s: %w", csvPath, err))
		}
		rows++
		if err := imp.Add(e); err != nil {
			return fmt.Errorf("%s line %d: %w", csvPath, rd.Line(), err)
		}
		if bar != nil && rows%4096 == 0 {
			bar.set(counted.n)
		}
		if rows%65536 == 0 && ctx.Err() != nil {
			return fmt.Errorf("import %s: %w; nothing was changed", csvPath, ctx.Err())
		}
	}
	if bar != nil {
		bar.done(counted.n)
	}

	if len(bad) > 0 && !*skip {
		printLineErrors(m, csvPath, bad, *asJSON, "rejected")
		return asUsage(fmt.Errorf("%s has %d bad line(s); nothing was imported (use --skip-invalid to import the good lines)", csvPath, len(bad)))
	}
	res, err := imp.Commit()
	if err != nil {
		return fmt.Errorf("import %s: %w", csvPath, err)
	}
	if len(bad) > 0 {
		printLineErrors(m, csvPath, bad, *asJSON, "skipped")
	}
	elapsed := time.Since(start)

	// Rebuild the matching index now, so the car is ready to match at start.
	indexStart := time.Now()
	if _, err := openMatcher(ctx, db); err != nil {
		return fmt.Errorf("hot list imported but the matching index could not be rebuilt: %w", err)
	}
	indexTime := time.Since(indexStart)

	rate := float64(res.Added) / elapsed.Seconds()
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(map[string]any{
			"type":       "result",
			"list":       res.List,
			"added":      res.Added,
			"removed":    res.Removed,
			"entries":    res.Entries,
			"skipped":    len(bad),
			"replaced":   *replace,
			"generation": res.Generation,
			"ms":         elapsed.Milliseconds(),
			"rows_per_s": int(rate),
			"index_ms":   indexTime.Milliseconds(),
		})
	}
	verb := "added to"
	if *replace {
		verb = "replaced"
	}
	fmt.Fprintf(m.Stdout, "%s: %d entries %s list %q (%d now in the list", csvPath, res.Added, verb, res.List, res.Entries)
	if res.Removed > 0 {
		fmt.Fprintf(m.Stdout, ", %d old entries removed", res.Removed)
	}
	if len(bad) > 0 {
		fmt.Fprintf(m.Stdout, ", %d bad lines skipped", len(bad))
	}
	fmt.Fprintf(m.Stdout, ") in %s, %.0f rows/s; index ready in %s.\n",
		elapsed.Round(time.Millisecond), rate, indexTime.Round(time.Millisecond))
	return nil
}

func printLineErrors(m *Main, file string, bad []hotlist.LineError, asJSON bool, what string) {
	enc := json.NewEncoder(m.Stdout)
	for _, le := range bad {
		if asJSON {
			enc.Encode(map[string]any{"type": what, "file": file, "line": le.Line, "field": le.Field, "reason": le.Reason})
			continue
		}
		field := ""
		if le.Field != "" {
			field = " " + le.Field + ":"
		}
		fmt.Fprintf(m.Stderr, "%s line %d:%s %s (%s)\n", file, le.Line, field, le.Reason, what)
	}
}

// checkResult is one VRM's answer to `hotlist check --json`.
type checkResult struct {
	Input   string       `json:"input"`
	VRM     string       `json:"vrm"`
	Format  app.Format   `json:"format"`
	Matches []checkMatch `json:"matches"`
}

type checkMatch struct {
	Kind      app.MatchKind `json:"kind"`
	List      string        `json:"list"`
	Entry     string        `json:"entry"`
	Category  string        `json:"category"`
	Priority  int           `json:"priority"`
	Action    string        `json:"action"`
	Covert    bool          `json:"covert"`
	Candidate string        `json:"candidate"`
	Diff      []int         `json:"diff,omitempty"`
	Expires   string        `json:"expires,omitempty"`
}

func hotlistCheck(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("hotlist check", "hotlist check --db FILE [--json] VRM...", m.Stdout)
	dbPath := fs.String("db", "", "the car's database `file`")
	asJSON := fs.Bool("json", false, "print one JSON object per VRM")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dbPath == "" {
		return badUsage("--db is required")
	}
	if fs.NArg() == 0 {
		return badUsage("check needs at least one VRM")
	}
	var marks []string
	for _, a := range fs.Args() {
		v, err := vrm.Parse(a)
		if err != nil {
			return badUsage("VRM %q: %v", a, err)
		}
		marks = append(marks, v)
	}
	db, err := openExisting(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	matcher, err := openMatcher(ctx, db)
	if err != nil {
		return err
	}
	now := time.Now()
	enc := json.NewEncoder(m.Stdout)
	for i, v := range marks {
		matches, err := matcher.Match([]app.Candidate{{Text: v, Confidence: 1}}, now)
		if err != nil {
			return fmt.Errorf("check %s: %w", v, err)
		}
		res := checkResult{Input: fs.Arg(i), VRM: v, Format: vrm.Classify(v, now), Matches: []checkMatch{}}
		for _, mt := range matches {
			cm := checkMatch{
				Kind: mt.Kind, List: mt.Entry.List, Entry: mt.Entry.VRM, Category: mt.Entry.Category,
				Priority: mt.Entry.Priority, Action: mt.Entry.Action, Covert: mt.Entry.Covert,
				Candidate: mt.Candidate, Diff: mt.Diff,
			}
			if !mt.Entry.Expires.IsZero() {
				cm.Expires = mt.Entry.Expires.UTC().Format(time.RFC3339)
			}
			res.Matches = append(res.Matches, cm)
		}
		if *asJSON {
			if err := enc.Encode(res); err != nil {
				return err
			}
			continue
		}
		if len(res.Matches) == 0 {
			fmt.Fprintf(m.Stdout, "%s (%s): no match\n", v, res.Format)
			continue
		}
		fmt.Fprintf(m.Stdout, "%s (%s): %d match(es)\n", v, res.Format, len(res.Matches))
		for _, cm := range res.Matches {
			covert := ""
			if cm.Covert {
				covert = " [covert: no alert in the car]"
			}
			fmt.Fprintf(m.Stdout, "  %s %-9s P%d %-14s %-10s %s — %s%s\n",
				cm.Kind.Mark(), cm.Kind, cm.Priority, cm.List, cm.Entry, cm.Category, cm.Action, covert)
		}
	}
	return nil
}

func hotlistStats(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("hotlist stats", "hotlist stats --db FILE [--json]", m.Stdout)
	dbPath := fs.String("db", "", "the car's database `file`")
	asJSON := fs.Bool("json", false, "print one JSON object per list, then a total")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dbPath == "" {
		return badUsage("--db is required")
	}
	if fs.NArg() != 0 {
		return badUsage("stats takes no arguments")
	}
	db, err := openExisting(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	stats, err := db.HotlistStats(ctx, now)
	if err != nil {
		return err
	}
	gen, err := db.HotlistGeneration(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(m.Stdout)
	var total sqlite.ListStats
	total.ByPriority = map[int]int{}
	for _, s := range stats {
		total.Entries += s.Entries
		total.Patterns += s.Patterns
		total.Covert += s.Covert
		total.Expired += s.Expired
		for p, n := range s.ByPriority {
			total.ByPriority[p] += n
		}
		if s.Updated.After(total.Updated) {
			total.Updated = s.Updated
		}
		if *asJSON {
			if err := enc.Encode(statsJSON("list", s, now)); err != nil {
				return err
			}
		}
	}
	if *asJSON {
		t := statsJSON("total", total, now)
		t["lists"] = len(stats)
		t["generation"] = gen
		return enc.Encode(t)
	}
	if len(stats) == 0 {
		fmt.Fprintln(m.Stdout, "no hot lists loaded")
		return nil
	}
	fmt.Fprintf(m.Stdout, "%-20s %10s %8s %7s %8s  %-20s %s\n", "LIST", "ENTRIES", "PATTERNS", "COVERT", "EXPIRED", "UPDATED", "BY PRIORITY")
	for _, s := range stats {
		fmt.Fprintf(m.Stdout, "%-20s %10d %8d %7d %8d  %-20s %s\n", s.List, s.Entries, s.Patterns, s.Covert, s.Expired,
			s.Updated.UTC().Format("2006-01-02 15:04Z"), priorities(s.ByPriority))
	}
	fmt.Fprintf(m.Stdout, "%-20s %10d %8d %7d %8d  %-20s %s\n", "total", total.Entries, total.Patterns, total.Covert, total.Expired,
		total.Updated.UTC().Format("2006-01-02 15:04Z"), priorities(total.ByPriority))
	return nil
}

func statsJSON(typ string, s sqlite.ListStats, now time.Time) map[string]any {
	byPrio := map[string]int{}
	for p, n := range s.ByPriority {
		byPrio[fmt.Sprint(p)] = n
	}
	out := map[string]any{
		"type":        typ,
		"entries":     s.Entries,
		"patterns":    s.Patterns,
		"covert":      s.Covert,
		"expired":     s.Expired,
		"by_priority": byPrio,
	}
	if typ == "list" {
		out["list"] = s.List
	}
	if !s.Updated.IsZero() {
		out["updated"] = s.Updated.UTC().Format(time.RFC3339)
		out["age_s"] = int(now.Sub(s.Updated).Seconds())
	}
	return out
}

func priorities(by map[int]int) string {
	keys := make([]int, 0, len(by))
	for p := range by {
		keys = append(keys, p)
	}
	sort.Ints(keys)
	parts := make([]string, 0, len(keys))
	for _, p := range keys {
		parts = append(parts, fmt.Sprintf("P%d:%d", p, by[p]))
	}
	return strings.Join(parts, " ")
}
