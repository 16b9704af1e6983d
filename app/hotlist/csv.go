package hotlist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/vrm"
)

// Defaults of ReaderOptions.
const (
	DefaultPriority     = 5
	DefaultMaxLineBytes = 4 << 10
)

// Errors of the hot-list CSV reader. Header problems are returned by
// NewReader; line problems come wrapped in a *LineError from Next.
var (
	ErrEmptyFile       = errors.New("file is empty")
	ErrEncoding        = errors.New("not UTF-8 text")
	ErrNoVRMColumn     = errors.New("header has no vrm column")
	ErrUnknownColumn   = errors.New("unknown column")
	ErrDuplicateColumn = errors.New("duplicate column")
	ErrLineTooLong     = errors.New("line too long")
	ErrFieldCount      = errors.New("wrong number of fields")
	ErrQuote           = errors.New("misplaced quote")
	ErrBadVRM          = errors.New("bad vrm")
	ErrBadPriority     = errors.New("bad priority")
	ErrBadDate         = errors.New("bad date")
	ErrBadCovert       = errors.New("bad covert flag")
)

// Columns are the hot-list CSV columns of DESIGN.md, in the order the
// generator writes them. Headers are matched case-insensitively; "color"
// and "expiry" are accepted for colour and expires.
var Columns = []string{"vrm", "category", "priority", "action", "information", "markers",
	"make", "model", "colour", "reference", "expires", "covert"}

var columnAliases = map[string]string{"color": "colour", "expiry": "expires"}

// ReaderOptions configures a Reader.
type ReaderOptions struct {
	// List names the list every entry belongs to.
	List string
	// Priority is given to entries when the file has no priority column or
	// a row leaves it empty (the CLI's --priority); 0 means DefaultPriority.
	Priority int
	// IgnoreExtra makes unknown columns ignored instead of an error.
	IgnoreExtra bool
	// MaxLineBytes bounds a record (a line, or the lines of a quoted
	// field spanning several); 0 means DefaultMaxLineBytes.
	MaxLineBytes int
}

// LineError is a bad line of a hot-list CSV file. Reading goes on after it.
type LineError struct {
	Line   int    // 1-based line number where the record starts
	Field  string // column name, or "" when the whole line is bad
	Reason string // for the fleet admin
	Err    error  // one of the ErrX values, for errors.Is
}

// Error says which line and field are bad, and why, in one sentence.
func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
}

// Unwrap returns the ErrX value, so errors.Is(err, ErrBadDate) works.
func (e *LineError) Unwrap() error { return e.Err }

// Reader reads hot-list entries from CSV one at a time, so a file of any
// size is read in constant memory.
//
// The format (DESIGN.md "Hot list CSV"): UTF-8, a UTF-8 byte-order mark
// allowed; a header row naming the columns (vrm required; category,
// priority, action, information, markers, make, model, colour, reference,
// expires, covert optional; any order, any case); comma-separated fields,
// RFC 4180 quoting (a quoted field may hold commas, doubled quotes and line
// breaks); blank lines ignored. Unquoted fields are trimmed of surrounding
// spaces.
//
// Cells: vrm is a mark or a pattern with `*`/`?`, normalised by
// vrm.ParsePattern; priority 1 (highest) … 9; markers separated by `;` or
// `|`; covert true/false, yes/no, y/n, 1/0 or empty (false); expires is an
// ISO-8601 date or date-time, or empty (never). A date means the entry is
// live for the whole of that day in UTC and expires at the following
// midnight UTC (01:00 in British Summer Time); a date-time without a zone is
// UTC. Expired entries are still read: they are kept for the record but
// never match.
type Reader struct {
	br     *bufio.Reader
	opts   ReaderOptions
	col    []string // column name per field index ("" when ignored)
	line   int      // physical lines consumed
	start  int      // line the current record started on
	rec    []byte
	fields []string
}

// NewReader reads and checks the header of a hot-list CSV file.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	if opts.Priority == 0 {
		opts.Priority = DefaultPriority
	}
	if opts.Priority < 1 || opts.Priority > 9 {
		return nil, fmt.Errorf("%w: default priority %d is not 1…9", ErrBadPriority, opts.Priority)
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	rd := &Reader{br: bufio.NewReaderSize(r, opts.MaxLineBytes+2), opts: opts}
	head, err := rd.br.Peek(3)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("read header: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		rd.br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, fmt.Errorf("%w: the file is UTF-16; save it as CSV UTF-8", ErrEncoding)
	}
	fields, err := rd.record()
	var le *LineError
	switch {
	case err == io.EOF:
		return nil, ErrEmptyFile
	case errors.As(err, &le):
		return nil, fmt.Errorf("header: %w", err)
	case err != nil:
		return nil, fmt.Errorf("read header: %w", err)
	}
	seen := map[string]int{}
	hasVRM := false
	for i, f := range fields {
		name := strings.ToLower(strings.TrimSpace(f))
		if a, ok := columnAliases[name]; ok {
			name = a
		}
		known := false
		for _, c := range Columns {
			known = known || c == name
		}
		if !known {
			if !opts.IgnoreExtra {
				return nil, fmt.Errorf("header: %w %q (column %d); the columns are %s, or ask to ignore extra columns",
					ErrUnknownColumn, f, i+1, strings.Join(Columns, ", "))
			}
			name = ""
		} else if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("header: %w %q (columns %d and %d)", ErrDuplicateColumn, name, j+1, i+1)
		}
		if name != "" {
			seen[name] = i
		}
		hasVRM = hasVRM || name == "vrm"
		rd.col = append(rd.col, name)
	}
	if !hasVRM {
		return nil, fmt.Errorf("header: %w", ErrNoVRMColumn)
	}
	return rd, nil
}

// Line is the number of lines read so far.
func (r *Reader) Line() int { return r.line }

// Next returns the next entry. A bad line gives a *LineError, after which
// Next may be called again for the following line; the end of the file
// gives io.EOF; any other error is from the underlying reader and ends
// reading.
func (r *Reader) Next() (app.HotlistEntry, error) {
	fields, err := r.record()
	if err != nil {
		return app.HotlistEntry{}, err
	}
	if len(fields) != len(r.col) {
		return app.HotlistEntry{}, r.lineErr("", ErrFieldCount,
			fmt.Sprintf("%d fields, the header has %d", len(fields), len(r.col)))
	}
	e := app.HotlistEntry{List: r.opts.List, Priority: r.opts.Priority}
	for i, v := range fields {
		name := r.col[i]
		if name == "" {
			continue
		}
		if err := r.set(&e, name, v); err != nil {
			return app.HotlistEntry{}, err
		}
	}
	return e, nil
}

func (r *Reader) lineErr(field string, err error, reason string) *LineError {
	return &LineError{Line: r.start, Field: field, Reason: reason, Err: err}
}

func (r *Reader) set(e *app.HotlistEntry, name, v string) error {
	switch name {
	case "vrm":
		m, err := vrm.ParsePattern(v)
		if err != nil {
			return r.lineErr(name, ErrBadVRM, fmt.Sprintf("%q: %v", v, err))
		}
		e.VRM = m
	case "category":
		e.Category = v
	case "priority":
		if v == "" {
			return nil
		}
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 9 {
			return r.lineErr(name, ErrBadPriority, fmt.Sprintf("%q is not a whole number from 1 (highest) to 9", v))
		}
		e.Priority = p
	case "action":
		e.Action = v
	case "information":
		e.Information = v
	case "markers":
		for _, m := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '|' }) {
			if m = strings.TrimSpace(m); m != "" {
				e.Markers = append(e.Markers, m)
			}
		}
	case "make":
		e.Make = v
	case "model":
		e.Model = v
	case "colour":
		e.Colour = v
	case "reference":
		e.Reference = v
	case "expires":
		t, err := ParseExpiry(v)
		if err != nil {
			return r.lineErr(name, ErrBadDate, err.Error())
		}
		e.Expires = t
	case "covert":
		switch strings.ToLower(v) {
		case "", "false", "no", "n", "0":
			e.Covert = false
		case "true", "yes", "y", "1":
			e.Covert = true
		default:
			return r.lineErr(name, ErrBadCovert, fmt.Sprintf("%q is not true or false", v))
		}
	}
	return nil
}

// ParseExpiry parses an expires cell: empty (never, the zero time), an
// ISO-8601 date (the entry expires at the midnight UTC that ends that day),
// or an ISO-8601 date-time with `T` or a space, optional seconds and
// fraction, and an optional zone (Z or ±hh:mm; none means UTC).
func ParseExpiry(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	s := strings.Replace(v, " ", "T", 1)
	for _, layout := range []string{
		time.RFC3339Nano, "2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05.999999999", "2006-01-02T15:04",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date (2026-12-31) or date-time (2026-12-31T18:00:00Z)", v)
}

// record reads the next non-blank record and splits it into fields. It
// returns io.EOF at the end, a *LineError for a record that is too long, not
// UTF-8 or badly quoted, or the underlying reader's error.
func (r *Reader) record() ([]string, error) {
	for {
		r.rec = r.rec[:0]
		r.start = r.line + 1
		st := fieldStart
		for {
			chunk, err := r.br.ReadSlice('\n')
			if len(chunk) > 0 || err == nil {
				r.line++
			}
			if err == bufio.ErrBufferFull || len(r.rec)+len(chunk) > r.opts.MaxLineBytes+2 {
				if err := r.skipLine(err); err != nil && err != io.EOF {
					return nil, err
				}
				return nil, r.lineErr("", ErrLineTooLong,
					fmt.Sprintf("more than %d bytes", r.opts.MaxLineBytes))
			}
			r.rec = append(r.rec, chunk...)
			if err != nil && err != io.EOF {
				return nil, err
			}
			st = scanQuotes(chunk, st)
			if st != quoted || err == io.EOF {
				if len(r.rec) == 0 && err == io.EOF {
					return nil, io.EOF
				}
				break
			}
		}
		rec := bytes.TrimRight(r.rec, "\r\n")
		if len(bytes.TrimSpace(rec)) == 0 {
			continue // blank line
		}
		if !utf8.Valid(rec) {
			return nil, r.lineErr("", ErrEncoding, "not valid UTF-8 (save the file as CSV UTF-8)")
		}
		if bytes.IndexByte(rec, 0) >= 0 {
			return nil, r.lineErr("", ErrEncoding, "has NUL bytes (is the file UTF-16?)")
		}
		return r.split(rec)
	}
}

// skipLine discards the rest of an over-long physical line.
func (r *Reader) skipLine(err error) error {
	for err == bufio.ErrBufferFull {
		_, err = r.br.ReadSlice('\n')
	}
	return err
}

// quote states of a record being read, so that a line break inside a
// quoted field continues the record (RFC 4180) while a stray quote in the
// middle of an unquoted field does not.
type quoteState uint8

const (
	fieldStart quoteState = iota
	unquoted
	quoted
	quoteInQuoted // a quote inside a quoted field: its end, or half of ""
)

// scanQuotes advances the quote state over chunk.
func scanQuotes(chunk []byte, st quoteState) quoteState {
	for _, c := range chunk {
		switch st {
		case fieldStart:
			switch c {
			case '"':
				st = quoted
			case ',', ' ', '\t', '\r', '\n':
			default:
				st = unquoted
			}
		case unquoted:
			if c == ',' || c == '\n' {
				st = fieldStart
			}
		case quoted:
			if c == '"' {
				st = quoteInQuoted
			}
		case quoteInQuoted:
			switch c {
			case '"':
				st = quoted
			case ',', '\n':
				st = fieldStart
			default:
				st = unquoted
			}
		}
	}
	return st
}

// split splits one record into fields (RFC 4180).
func (r *Reader) split(rec []byte) ([]string, error) {
	r.fields = r.fields[:0]
	s := string(rec)
	for {
		// Skip leading spaces of an unquoted or quoted field.
		i := 0
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], '"')
				if k < 0 {
					return nil, r.lineErr("", ErrQuote, "a quoted field is not closed")
				}
				b.WriteString(s[j : j+k])
				j += k + 1
				if j < len(s) && s[j] == '"' {
					b.WriteByte('"')
					j++
					continue
				}
				break
			}
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			r.fields = append(r.fields, b.String())
			switch {
			case j == len(s):
				return r.fields, nil
			case s[j] != ',':
				return nil, r.lineErr("", ErrQuote, fmt.Sprintf("text after the closing quote of field %d", len(r.fields)))
			}
			s = s[j+1:]
			continue
		}
		k := strings.IndexByte(s, ',')
		last := k < 0
		if last {
			k = len(s)
		}
		f := strings.TrimSpace(s[:k])
		if strings.IndexByte(f, '"') >= 0 {
			return nil, r.lineErr("", ErrQuote, fmt.Sprintf("a quote inside unquoted field %d", len(r.fields)+1))
		}
		r.fields = append(r.fields, f)
		if last {
			return r.fields, nil
		}
		s = s[k+1:]
	}
}
