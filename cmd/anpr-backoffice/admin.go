package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/devcert"
	"github.com/ukanpr/anpr/sync/wire"
)

func init() {
	register(command{name: "certs", summary: "mint a development CA, server and car certificates and the hot-list signing key", run: runCerts})
	register(command{name: "user", summary: "add a user: 'user add --db DSN --name N --role R' prints their token", run: runUser})
	register(command{name: "audit", summary: "check the audit log's hash chain: 'audit verify --db DSN'", run: runAudit})
	register(command{name: "stats", summary: "count reads, hits, decisions and vehicles", run: runStats})
	register(command{name: "hotlist", summary: "publish a hot list from CSV: 'hotlist publish --db DSN --list NAME FILE'", run: runHotlist})
}

func runCerts(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("certs", "certs --out DIR --cars car-1,car-2", m.Stdout)
	out := fs.String("out", "", "directory to write into (created)")
	cars := fs.String("cars", "", "comma-separated car ids; each gets a client certificate")
	validity := fs.Duration("validity", 365*24*time.Hour, "how long the certificates are valid")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return badUsage("--out is required")
	}
	var names []string
	for _, c := range strings.Split(*cars, ",") {
		if c = strings.TrimSpace(c); c != "" {
			names = append(names, c)
		}
	}
	if err := devcert.Mint(*out, names, m.Now(), *validity); err != nil {
		return asUsage(err)
	}
	fmt.Fprintf(m.Stdout, "wrote a development CA, a server certificate for localhost and 127.0.0.1, %d car certificates and the hot-list signing key to %s\n", len(names), *out)
	return nil
}

func runUser(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return badUsage("usage: anpr-backoffice user add --db DSN --name NAME --role ROLE")
	}
	fs := newFlags("user add", "user add --db DSN --name NAME --role ROLE", m.Stdout)
	dsn := fs.String("db", "", "store DSN")
	name := fs.String("name", "", "user name (e.g. collar number)")
	role := fs.String("role", "", "one of analyst, investigator, senior, admin, auditor")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *name == "" || len(*name) > 64 {
		return badUsage("--name is required")
	}
	if _, ok := backoffice.DefaultRoles[*role]; !ok {
		return badUsage("--role %q is not one of analyst, investigator, senior, admin, auditor", *role)
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	tok := backoffice.NewToken()
	u := backoffice.User{Name: *name, Role: *role, Created: m.Now().UTC()}
	if err := st.AddUser(ctx, u, backoffice.HashToken(tok)); err != nil {
		if errors.Is(err, backoffice.ErrConflict) {
			return asUsage(err)
		}
		return err
	}
	if _, err := st.AppendAudit(ctx, backoffice.AuditEvent{Time: m.Now(), Actor: "admin-cli", Action: "user.add",
		Detail: fmt.Sprintf(`{"name":%q,"role":%q}`, u.Name, u.Role)}); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, tok)
	return nil
}

func runAudit(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return badUsage("usage: anpr-backoffice audit verify --db DSN [--json]")
	}
	fs := newFlags("audit verify", "audit verify --db DSN [--json]", m.Stdout)
	dsn := fs.String("db", "", "store DSN")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := backoffice.VerifyAudit(ctx, st)
	if err != nil {
		return err
	}
	if *asJSON {
		json.NewEncoder(m.Stdout).Encode(rep)
	} else if rep.OK {
		fmt.Fprintf(m.Stdout, "audit log intact: %d entries, head %s\n", rep.Events, rep.Head)
	}
	if !rep.OK {
		return fmt.Errorf("audit log broken at entry %d: %s", rep.BadSeq, rep.Reason)
	}
	return nil
}

func runStats(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("stats", "stats --db DSN [--json]", m.Stdout)
	dsn := fs.String("db", "", "store DSN")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(s)
	}
	fmt.Fprintf(m.Stdout, "reads %d, hits %d, decisions %d, vehicles %d", s.Reads, s.Hits, s.Decisions, s.Vehicles)
	if s.Reads > 0 {
		fmt.Fprintf(m.Stdout, ", oldest %s, newest %s", s.Oldest.Format(time.RFC3339), s.Newest.Format(time.RFC3339))
	}
	fmt.Fprintln(m.Stdout)
	return nil
}

func runHotlist(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || args[0] != "publish" {
		return badUsage("usage: anpr-backoffice hotlist publish --db DSN --list NAME [--json] FILE.csv")
	}
	fs := newFlags("hotlist publish", "hotlist publish --db DSN --list NAME [--by NAME] [--json] FILE.csv", m.Stdout)
	dsn := fs.String("db", "", "store DSN")
	list := fs.String("list", "", "list name")
	by := fs.String("by", "admin-cli", "who publishes, for the audit log")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 || *list == "" {
		return badUsage("need --list NAME and one CSV file")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return asUsage(err)
	}
	defer f.Close()
	entries, err := parseCSV(f, fs.Arg(0))
	if err != nil {
		return asUsage(err)
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := backoffice.Publish(ctx, st, *list, entries, *by, m.Now())
	if err != nil {
		if errors.Is(err, backoffice.ErrInvalid) || errors.Is(err, wire.ErrMalformed) {
			return asUsage(err)
		}
		return err
	}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(v)
	}
	fmt.Fprintf(m.Stdout, "published %s generation %d with %d entries\n", v.List, v.Generation, v.Entries)
	return nil
}

// parseCSV reads the hot-list CSV fleet admins use (see DESIGN.md); any bad
// line rejects the file, naming every bad line.
func parseCSV(r io.Reader, name string) ([]wire.Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: no header row: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "vrm", "category", "priority", "action", "information", "markers", "make", "model", "colour", "reference", "expires", "covert":
			col[h] = i
		default:
			return nil, fmt.Errorf("%s line 1: unknown column %q", name, h)
		}
	}
	if _, ok := col["vrm"]; !ok {
		return nil, fmt.Errorf("%s line 1: no vrm column", name)
	}
	var out []wire.Entry
	var bad []string
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		e := wire.Entry{VRM: strings.ToUpper(strings.ReplaceAll(get("vrm"), " ", "")), Category: get("category"), Action: get("action"),
			Information: get("information"), Make: get("make"), Model: get("model"), Colour: get("colour"), Reference: get("reference")}
		if m := get("markers"); m != "" {
			for _, x := range strings.Split(m, ";") {
				e.Markers = append(e.Markers, strings.TrimSpace(x))
			}
		}
		if p := get("priority"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 9 {
				bad = append(bad, fmt.Sprintf("line %d: priority %q is not 1 to 9", line, p))
				continue
			}
			e.Priority = n
		}
		if x := get("expires"); x != "" {
			t, err := time.Parse(time.RFC3339, x)
			if err != nil {
				t, err = time.Parse(time.DateOnly, x)
			}
			if err != nil {
				bad = append(bad, fmt.Sprintf("line %d: expires %q is not an ISO-8601 date or time", line, x))
				continue
			}
			e.Expires = &t
		}
		if c := get("covert"); c != "" {
			b, err := strconv.ParseBool(c)
			if err != nil {
				bad = append(bad, fmt.Sprintf("line %d: covert %q is not true or false", line, c))
				continue
			}
			e.Covert = b
		}
		if err := e.Validate(); err != nil {
			bad = append(bad, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		if prev, ok := seen[e.VRM]; ok {
			bad = append(bad, fmt.Sprintf("line %d: vrm %s already on line %d", line, e.VRM, prev))
			continue
		}
		seen[e.VRM] = line
		out = append(out, e)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: %d bad lines, nothing published: %s", name, len(bad), strings.Join(bad, "; "))
	}
	return out, nil
}
