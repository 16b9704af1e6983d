package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/ukanpr/anpr/app/ui"
)

// configFile is the car's configuration file as the admin screen edits it.
// Saved settings are written back into the file in place, keeping its
// comments and layout, and replace it atomically: a car that loses power
// mid-save starts with either the old file or the new one.
type configFile struct {
	path string

	mu  sync.Mutex
	cfg *config
}

// settings are the fields the admin screen shows.
func (f *configFile) settings() ui.Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return settingsOf(f.cfg)
}

func settingsOf(c *config) ui.Settings {
	srcs := make([]string, len(c.Cameras))
	for i, cam := range c.Cameras {
		srcs[i] = cam.Source
	}
	return ui.Settings{Cameras: strings.Join(srcs, "\n"), GPS: c.GPS.Source, BackOffice: c.BackOffice.URL,
		RetentionDays: c.Retention.ReadsDays}
}

// save checks s against the rest of the configuration, writes it into the
// file and keeps it. Nothing is written when any field is wrong.
func (f *configFile) save(s ui.Settings) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	next, err := f.cfg.withSettings(s)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("config %s: %w", f.path, err)
	}
	text, err := editConfig(old, next)
	if err != nil || !f.reads(text, next) {
		// A layout the line editor does not handle (inline tables,
		// multi-line values): write the whole file afresh.
		if text, err = encodeConfig(next, time.Now()); err != nil {
			return fmt.Errorf("config %s: %w", f.path, err)
		}
		if !f.reads(text, next) {
			return fmt.Errorf("config %s: the settings could not be written back; the file is unchanged", f.path)
		}
	}
	if err := writeFileAtomic(f.path, text); err != nil {
		return fmt.Errorf("config %s: %w", f.path, err)
	}
	f.cfg = next
	return nil
}

// reads reports whether text decodes to exactly want.
func (f *configFile) reads(text []byte, want *config) bool {
	got, err := parseConfig(f.path, text)
	return err == nil && reflect.DeepEqual(got, want)
}

// withSettings returns a copy of c with s applied, checked as a whole.
// Cameras keep their ids and zoom windows by position; an added one is
// named camN.
func (c *config) withSettings(s ui.Settings) (*config, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	next := *c
	next.Cameras = nil
	ids := map[string]bool{}
	for _, line := range strings.Split(s.Cameras, "\n") {
		src := strings.TrimSpace(line)
		if src == "" {
			continue
		}
		cam := cameraConfig{Source: src}
		if i := len(next.Cameras); i < len(c.Cameras) {
			cam = c.Cameras[i] // its id and zoom window
			cam.Source = src
		} else {
			for n := i + 1; cam.ID == "" || ids[cam.ID]; n++ {
				cam.ID = "cam" + strconv.Itoa(n)
			}
		}
		ids[cam.ID] = true
		next.Cameras = append(next.Cameras, cam)
	}
	next.GPS.Source = strings.TrimSpace(s.GPS)
	if !strings.HasPrefix(next.GPS.Source, "serial:") {
		next.GPS.Baud = 0
	}
	next.BackOffice.URL = strings.TrimSpace(s.BackOffice)
	next.Retention.ReadsDays = s.RetentionDays
	if err := next.check(); err != nil {
		return nil, err
	}
	return &next, nil
}

// ---- editing TOML text in place ----

var (
	tomlTable = regexp.MustCompile(`^\s*(\[\[?)\s*([A-Za-z0-9_-]+)\s*\]\]?\s*(#.*)?$`)
	tomlKey   = regexp.MustCompile(`^(\s*)([A-Za-z0-9_-]+)(\s*=\s*)(.*)$`)
)

// tomlBlock is a table of a TOML file: its header line and the lines up
// to the next header.
type tomlBlock struct {
	name       string
	array      bool // [[name]]
	start, end int  // header line; the first line after the block
}

// tomlDoc is a TOML file as lines, for editing a few keys in place.
type tomlDoc struct {
	lines []string
}

func (d *tomlDoc) blocks() []tomlBlock {
	var bs []tomlBlock
	for i, l := range d.lines {
		m := tomlTable.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if n := len(bs); n > 0 {
			bs[n-1].end = i
		}
		bs = append(bs, tomlBlock{name: m[2], array: m[1] == "[[", start: i})
	}
	if n := len(bs); n > 0 {
		bs[n-1].end = len(d.lines)
	}
	return bs
}

// set gives key the value v (TOML text) in block b, keeping what follows
// the old value (a comment), or adds the key under the header.
func (d *tomlDoc) set(b tomlBlock, key, v string) error {
	for i := b.start + 1; i < b.end; i++ {
		m := tomlKey.FindStringSubmatch(d.lines[i])
		if m == nil || m[2] != key {
			continue
		}
		n, err := tomlValueLen(m[4])
		if err != nil {
			return fmt.Errorf("%s.%s: %w", b.name, key, err)
		}
		head, rest := m[1]+m[2]+m[3], m[4][n:]
		if c := strings.TrimLeft(rest, " \t"); strings.HasPrefix(c, "#") {
			// keep the comment in its column where the new value leaves room
			col := len(head) + n + len(rest) - len(c)
			rest = strings.Repeat(" ", max(1, col-len(head)-len(v))) + c
		}
		d.lines[i] = head + v + rest
		return nil
	}
	d.insert(b.start+1, key+" = "+v)
	return nil
}

// table finds the [name] table.
func (d *tomlDoc) table(name string) (tomlBlock, bool) {
	for _, b := range d.blocks() {
		if b.name == name && !b.array {
			return b, true
		}
	}
	return tomlBlock{}, false
}

// has reports whether block b sets key.
func (d *tomlDoc) has(b tomlBlock, key string) bool {
	for i := b.start + 1; i < b.end; i++ {
		if m := tomlKey.FindStringSubmatch(d.lines[i]); m != nil && m[2] == key {
			return true
		}
	}
	return false
}

// setTable sets key in the table name, adding the table at the end when
// the file has none.
func (d *tomlDoc) setTable(name, key, v string) error {
	if b, ok := d.table(name); ok {
		return d.set(b, key, v)
	}
	d.lines = append(d.lines, "", "["+name+"]", key+" = "+v)
	return nil
}

func (d *tomlDoc) insert(at int, lines ...string) {
	d.lines = append(d.lines[:at], append(lines, d.lines[at:]...)...)
}

// contentEnd is the line after b's last key, leaving out the blank and
// comment lines that introduce whatever follows.
func (d *tomlDoc) contentEnd(b tomlBlock) int {
	end := b.end
	for end > b.start+1 {
		l := strings.TrimSpace(d.lines[end-1])
		if l != "" && !strings.HasPrefix(l, "#") {
			break
		}
		end--
	}
	return end
}

// tomlValueLen is the length of the value at the start of v (a string,
// number or boolean); arrays, inline tables and multi-line strings are not
// edited in place.
func tomlValueLen(v string) (int, error) {
	switch {
	case strings.HasPrefix(v, `"""`), strings.HasPrefix(v, `'''`), strings.HasPrefix(v, "["), strings.HasPrefix(v, "{"):
		return 0, errors.New("value not editable in place")
	case strings.HasPrefix(v, `"`):
		for i := 1; i < len(v); i++ {
			switch v[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
		return 0, errors.New("unterminated string")
	case strings.HasPrefix(v, "'"):
		if i := strings.IndexByte(v[1:], '\''); i >= 0 {
			return i + 2, nil
		}
		return 0, errors.New("unterminated string")
	}
	n := len(v)
	if i := strings.IndexByte(v, '#'); i >= 0 {
		n = i
	}
	return len(strings.TrimRight(v[:n], " \t")), nil
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// editConfig writes the admin's fields of cfg into the file text src:
// camera sources (cameras added or removed as whole [[cameras]] tables), GPS
// source and baud, back-office URL and retention. Everything else — other
// keys, comments, blank lines, order — is left as it was.
func editConfig(src []byte, cfg *config) ([]byte, error) {
	eol := "\n"
	if bytes.Contains(src, []byte("\r\n")) {
		eol = "\r\n"
	}
	text := strings.TrimSuffix(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	d := &tomlDoc{lines: strings.Split(text, "\n")}

	cams := func() []tomlBlock {
		var out []tomlBlock
		for _, b := range d.blocks() {
			if b.name == "cameras" && b.array {
				out = append(out, b)
			}
		}
		return out
	}
	if len(cams()) == 0 {
		return nil, errors.New("no [[cameras]] tables to edit")
	}
	// Drop surplus cameras from the last, then set the sources of those
	// kept, then add new ones after the last.
	for bs := cams(); len(bs) > len(cfg.Cameras); bs = cams() {
		b := bs[len(bs)-1]
		d.lines = append(d.lines[:b.start], d.lines[d.contentEnd(b):]...)
	}
	for i := range cams() {
		if err := d.set(cams()[i], "source", tomlString(cfg.Cameras[i].Source)); err != nil {
			return nil, err
		}
	}
	for i := len(cams()); i < len(cfg.Cameras); i++ {
		bs := cams()
		at := d.contentEnd(bs[len(bs)-1])
		d.insert(at, "", "[[cameras]]", "id = "+tomlString(cfg.Cameras[i].ID), "source = "+tomlString(cfg.Cameras[i].Source))
	}
	if err := d.setTable("gps", "source", tomlString(cfg.GPS.Source)); err != nil {
		return nil, err
	}
	if b, ok := d.table("gps"); ok && d.has(b, "baud") {
		if err := d.set(b, "baud", strconv.Itoa(cfg.GPS.Baud)); err != nil {
			return nil, err
		}
	}
	if _, ok := d.table("backoffice"); ok || cfg.BackOffice.URL != "" {
		if err := d.setTable("backoffice", "url", tomlString(cfg.BackOffice.URL)); err != nil {
			return nil, err
		}
	}
	if err := d.setTable("retention", "reads_days", strconv.Itoa(cfg.Retention.ReadsDays)); err != nil {
		return nil, err
	}
	return []byte(strings.Join(d.lines, eol) + eol), nil
}

// encodeConfig writes cfg as a whole new file, for layouts editConfig
// cannot edit in place.
func encodeConfig(cfg *config, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# The in-car app's configuration, written by its admin screen on %s.\n"+
		"# The earlier file's layout could not be edited in place, so its comments are gone;\n"+
		"# docs/anpr.example.toml documents every field.\n\n", now.UTC().Format("2006-01-02 15:04 MST"))
	if err := toml.NewEncoder(&b).Encode(cfg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeFileAtomic replaces path with data: a temporary file beside it,
// synced, renamed over it, and the directory synced, keeping the old
// file's permissions.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
