package gps

import (
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine bounds a sentence. NMEA 0183 allows 82 characters, but
// high-precision receivers (RTK, Telit) send longer ones; anything past
// this is garbage and is dropped.
const DefaultMaxLine = 200

// Stats counts what a Decoder accepted, skipped and dropped, and why.
type Stats struct {
	Sentences    int64 // framed, with a good checksum or an accepted missing one
	Used         int64 // parsed and handed on (RMC, GGA, GNS, GLL, VTG, GSA, ZDA)
	Unused       int64 // standard sentences the tracker does not need (GSV, GST, TXT, …)
	Proprietary  int64 // $P… sentences (PGRME, PJLTS, PORZD, …): skipped
	Encapsulated int64 // !… sentences (AIS): skipped
	NoChecksum   int64 // accepted without a checksum (included in Used)
	Placeholder  int64 // sentences whose position was a no-fix placeholder (kept, position ignored)

	BadChecksum     int64 // dropped: checksum mismatch or a malformed *hh
	MissingChecksum int64 // dropped: no checksum while RequireChecksum is set
	Truncated       int64 // dropped: cut short by a new '$' or by the end of input
	TooLong         int64 // dropped: longer than MaxLine
	Binary          int64 // dropped: a non-printable byte (NUL, UBX, …) inside the sentence
	Malformed       int64 // dropped: an address or a field that does not parse
	GarbageBytes    int64 // bytes outside any sentence, skipped
}

// Dropped is the number of sentences dropped, for whatever reason.
func (s Stats) Dropped() int64 {
	return s.BadChecksum + s.MissingChecksum + s.Truncated + s.TooLong + s.Binary + s.Malformed
}

// Add returns the sum of s and o.
func (s Stats) Add(o Stats) Stats {
	s.Sentences += o.Sentences
	s.Used += o.Used
	s.Unused += o.Unused
	s.Proprietary += o.Proprietary
	s.Encapsulated += o.Encapsulated
	s.NoChecksum += o.NoChecksum
	s.Placeholder += o.Placeholder
	s.BadChecksum += o.BadChecksum
	s.MissingChecksum += o.MissingChecksum
	s.Truncated += o.Truncated
	s.TooLong += o.TooLong
	s.Binary += o.Binary
	s.Malformed += o.Malformed
	s.GarbageBytes += o.GarbageBytes
	return s
}

// String summarises s in one line, e.g. for a replay's stderr.
func (s Stats) String() string {
	return fmt.Sprintf("%d sentences (%d used, %d unused, %d proprietary, %d without checksum, %d placeholder positions); "+
		"dropped %d: %d bad checksum, %d missing checksum, %d truncated, %d too long, %d binary, %d malformed; %d garbage bytes",
		s.Sentences, s.Used, s.Unused, s.Proprietary, s.NoChecksum, s.Placeholder,
		s.Dropped(), s.BadChecksum, s.MissingChecksum, s.Truncated, s.TooLong, s.Binary, s.Malformed, s.GarbageBytes)
}

// ErrMalformed wraps every field-level parse error.
var ErrMalformed = errors.New("malformed sentence")

// Decoder reads NMEA 0183 from a byte stream that may hold anything, and
// returns a Report for each sentence the tracker can use. It is not safe
// for concurrent use.
type Decoder struct {
	// MaxLine bounds a sentence, '$' to checksum; DefaultMaxLine when 0.
	MaxLine int
	// RequireChecksum drops sentences that carry no checksum.
	RequireChecksum bool
	// Comments skips lines that begin with '#' (the header of a gpsd-style
	// log file) instead of counting them as garbage.
	Comments bool
	// OnDrop, when set, is told about each sentence dropped after framing
	// (checksum or parse), with the raw line; for logs and tests.
	OnDrop func(line []byte, err error)

	r     io.Reader
	buf   []byte
	pos   int
	end   int
	line  []byte
	state frameState
	eof   bool
	err   error
	// midLine is set once a line has any byte; '#' only starts a comment
	// at the start of a line.
	midLine bool

	stats  Stats
	parser parser
}

type frameState uint8

const (
	outside  frameState = iota // between sentences
	inside                     // inside a sentence
	skipping                   // dropping the rest of a bad sentence up to CR/LF or '$'
	comment                    // a '#' line, up to CR/LF
)

// NewDecoder returns a Decoder reading r.
func NewDecoder(r io.Reader) *Decoder {
	d := &Decoder{r: r, buf: make([]byte, 4096)}
	d.parser.init()
	return d
}

// Stats returns the counts so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Next returns the next usable sentence's Report. At the end of input it
// returns io.EOF; a read error is returned as it came, wrapped.
func (d *Decoder) Next(rep *Report) error {
	for {
		line, err := d.frame()
		if err != nil {
			return err
		}
		if d.decode(line, rep) {
			return nil
		}
	}
}

func (d *Decoder) maxLine() int {
	if d.MaxLine > 0 {
		return d.MaxLine
	}
	return DefaultMaxLine
}

// frame returns the next complete line ('$' or '!' up to CR/LF), counting
// and skipping whatever does not frame.
func (d *Decoder) frame() ([]byte, error) {
	max := d.maxLine()
	for {
		if d.pos >= d.end {
			if d.eof {
				if d.state == inside && len(d.line) > 1 {
					d.stats.Truncated++
				}
				d.state, d.line = outside, d.line[:0]
				return nil, d.err
			}
			n, err := d.r.Read(d.buf)
			d.pos, d.end = 0, n
			if err != nil {
				d.eof = true
				if errors.Is(err, io.EOF) {
					d.err = io.EOF
				} else {
					d.err = fmt.Errorf("read nmea: %w", err)
				}
			}
			continue
		}
		if d.state == inside {
			// Fast path: copy the run of ordinary sentence bytes at once.
			j, lim := d.pos, d.end
			if room := d.pos + max - len(d.line); room < lim {
				lim = room
			}
			for j < lim {
				c := d.buf[j]
				if c < 0x20 || c > 0x7e || c == '$' || c == '!' {
					break
				}
				j++
			}
			if j > d.pos {
				d.line = append(d.line, d.buf[d.pos:j]...)
				d.pos, d.midLine = j, true
				continue
			}
		}
		b := d.buf[d.pos]
		d.pos++
		lineStart := !d.midLine
		d.midLine = b != '\r' && b != '\n'
		switch d.state {
		case comment:
			if b == '\r' || b == '\n' {
				d.state = outside
			}
		case outside:
			switch {
			case b == '#' && lineStart && d.Comments:
				d.state = comment
			case b == '$' || b == '!':
				d.line = append(d.line[:0], b)
				d.state = inside
			case b == '\r' || b == '\n' || b == ' ' || b == '\t':
			default:
				d.stats.GarbageBytes++
			}
		case skipping:
			switch b {
			case '$', '!':
				d.line = append(d.line[:0], b)
				d.state = inside
			case '\r', '\n':
				d.state = outside
			}
		case inside:
			switch {
			case b == '\r' || b == '\n':
				d.state = outside
				if len(d.line) > 1 {
					return d.line, nil
				}
			case b == '$' || b == '!':
				if len(d.line) > 1 {
					d.stats.Truncated++
				}
				// "$$GPRMC": the doubled start is framing, not a new sentence.
				d.line = append(d.line[:0], b)
			case b < 0x20 || b > 0x7e:
				d.stats.Binary++
				d.state = skipping
			case len(d.line) >= max:
				d.stats.TooLong++
				d.state = skipping
			default:
				d.line = append(d.line, b)
			}
		}
	}
}

// decode checks a framed line's checksum and parses it, counting the
// outcome; it reports whether rep holds a usable sentence.
func (d *Decoder) decode(line []byte, rep *Report) bool {
	body := line[1:]
	hasSum := false
	if star := indexByte(body, '*'); star >= 0 {
		sum := body[star+1:]
		// Trailing blanks after the checksum are tolerated.
		for len(sum) > 0 && (sum[len(sum)-1] == ' ' || sum[len(sum)-1] == '\t') {
			sum = sum[:len(sum)-1]
		}
		body = body[:star]
		want, ok := hex2(sum)
		if !ok || want != xor(body) {
			d.stats.BadChecksum++
			d.drop(line, errBadChecksum)
			return false
		}
		hasSum = true
	} else if d.RequireChecksum {
		d.stats.MissingChecksum++
		d.drop(line, errNoChecksum)
		return false
	}
	d.stats.Sentences++
	if line[0] == '!' {
		d.stats.Encapsulated++
		return false
	}
	comma := indexByte(body, ',')
	addr := body
	if comma >= 0 {
		addr = body[:comma]
	}
	if len(addr) > 0 && addr[0] == 'P' {
		d.stats.Proprietary++
		return false
	}
	if len(addr) != 5 || !upperAlnum(addr) {
		d.stats.Malformed++
		d.drop(line, fmt.Errorf("address %q: %w", addr, ErrMalformed))
		return false
	}
	typ := sentenceType(addr[2:])
	if typ == "" {
		d.stats.Unused++
		return false
	}
	var fields []byte
	if comma >= 0 {
		fields = body[comma+1:]
	}
	if err := d.parser.parse(typ, [2]byte{addr[0], addr[1]}, fields, line, hasSum, rep); err != nil {
		d.stats.Malformed++
		d.drop(line, err)
		return false
	}
	if !hasSum {
		d.stats.NoChecksum++
	}
	if rep.Placeholder {
		d.stats.Placeholder++
	}
	d.stats.Used++
	return true
}

var (
	errBadChecksum = errors.New("checksum mismatch")
	errNoChecksum  = errors.New("no checksum")
)

func (d *Decoder) drop(line []byte, err error) {
	if d.OnDrop != nil {
		d.OnDrop(line, err)
	}
}

// sentenceType returns the constant for a used type, or "".
func sentenceType(t []byte) string {
	switch string(t) { // no allocation: the compiler compares in place
	case TypeRMC:
		return TypeRMC
	case TypeGGA:
		return TypeGGA
	case TypeGNS:
		return TypeGNS
	case TypeGLL:
		return TypeGLL
	case TypeVTG:
		return TypeVTG
	case TypeGSA:
		return TypeGSA
	case TypeZDA:
		return TypeZDA
	}
	return ""
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func upperAlnum(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func xor(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

func hex2(b []byte) (byte, bool) {
	if len(b) != 2 {
		return 0, false
	}
	h, ok1 := unhex(b[0])
	l, ok2 := unhex(b[1])
	return h<<4 | l, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
