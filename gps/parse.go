package gps

import (
	"fmt"
	"math"
	"time"

	nmea "github.com/adrianmo/go-nmea"
)

// parser turns a checksummed sentence of a used type into a Report. RMC
// and GGA, the bulk of every epoch, take a hand-written path that does not
// allocate; every other type goes through go-nmea with tolerant parsers
// registered for what real receivers send (see tolerant.go). The fuzz test
// FuzzFastPathAgrees holds the two paths to the same answers.
type parser struct {
	nmea nmea.SentenceParser
	slow bool // tests: send RMC and GGA through go-nmea too
	f    [maxFields][]byte
}

const maxFields = 24

// minFields is how many fields each type needs to be used at all; lines
// without a checksum need the full set (fullFields), so that a line cut
// short by a lost byte but still ended by CR/LF is not taken as complete.
var minFields = map[string][2]int{
	// type: {with checksum, without checksum}
	TypeRMC: {9, 11},  // through date; variation and mode optional
	TypeGGA: {9, 14},  // through altitude
	TypeGNS: {8, 12},  // through altitude
	TypeGLL: {5, 6},   // through time; status optional in NMEA 2.0
	TypeVTG: {8, 8},   // course/speed with units
	TypeGSA: {17, 17}, // mode, fix, 12 PRNs, PDOP, HDOP, VDOP
	TypeZDA: {4, 6},   // time, day, month, year
}

func (p *parser) init() {
	p.nmea = nmea.SentenceParser{
		CustomParsers: tolerantParsers(),
		// The Decoder has already checked the checksum, or decided to
		// accept its absence.
		CheckCRC: func(nmea.BaseSentence, string) error { return nil },
	}
}

func (p *parser) parse(typ string, talker [2]byte, fields, line []byte, hasSum bool, rep *Report) error {
	n := split(fields, &p.f)
	need := minFields[typ][0]
	if !hasSum {
		need = minFields[typ][1]
	}
	if n < need {
		return fmt.Errorf("%s%s has %d fields, want at least %d: %w", talker[:], typ, n, need, ErrMalformed)
	}
	rep.reset(typ, talker)
	if !p.slow {
		switch typ {
		case TypeRMC:
			return fastRMC(p.f[:min(n, maxFields)], rep)
		case TypeGGA:
			return fastGGA(p.f[:min(n, maxFields)], rep)
		}
	}
	s, err := p.nmea.Parse(string(line))
	if err != nil {
		return fmt.Errorf("%w: %w", err, ErrMalformed)
	}
	return fromNMEA(s, rep)
}

// split cuts b at commas into f, returning the number of fields (which may
// exceed len(f); only the first len(f) are kept).
func split(b []byte, f *[maxFields][]byte) int {
	n, start := 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == ',' {
			if n < maxFields {
				f[n] = b[start:i]
			}
			n++
			start = i + 1
		}
	}
	return n
}

func fieldErr(talker [2]byte, typ, field string, v []byte) error {
	return fmt.Errorf("%s%s field %s %q: %w", talker[:], typ, field, v, ErrMalformed)
}

// fastRMC decodes $--RMC,time,status,lat,N,lon,E,knots,course,ddmmyy[,var,E[,mode[,navstatus]]].
func fastRMC(f [][]byte, rep *Report) error {
	var err error
	if rep.TOD, rep.HasTime, err = parseTOD(f[0]); err != nil {
		return fieldErr(rep.Talker, TypeRMC, "time", f[0])
	}
	if len(f[1]) != 1 || (f[1][0] != 'A' && f[1][0] != 'V') {
		return fieldErr(rep.Talker, TypeRMC, "status", f[1])
	}
	if err := posFields(rep, TypeRMC, f[2], f[3], f[4], f[5]); err != nil {
		return err
	}
	if rep.SpeedMPS, err = optFloat(f[6]); err != nil {
		return fieldErr(rep.Talker, TypeRMC, "speed", f[6])
	}
	rep.SpeedMPS *= knotMPS
	if rep.CourseDeg, err = optFloat(f[7]); err != nil {
		return fieldErr(rep.Talker, TypeRMC, "course", f[7])
	}
	if err := dateField(rep, f[8]); err != nil {
		return fieldErr(rep.Talker, TypeRMC, "date", f[8])
	}
	var mode string
	if len(f) > 11 && len(f[11]) > 0 {
		mode = modeString(f[11])
	}
	rep.Status = rmcStatus(f[1][0], mode)
	return nil
}

// fastGGA decodes $--GGA,time,lat,N,lon,E,quality,sats,hdop,alt,M,sep,M,age,station.
func fastGGA(f [][]byte, rep *Report) error {
	var err error
	if rep.TOD, rep.HasTime, err = parseTOD(f[0]); err != nil {
		return fieldErr(rep.Talker, TypeGGA, "time", f[0])
	}
	if err := posFields(rep, TypeGGA, f[1], f[2], f[3], f[4]); err != nil {
		return err
	}
	if len(f[5]) > 1 || (len(f[5]) == 1 && (f[5][0] < '0' || f[5][0] > '9')) {
		return fieldErr(rep.Talker, TypeGGA, "quality", f[5])
	}
	if len(f[5]) == 1 {
		rep.Status = ggaStatus(f[5][0])
	}
	if len(f[6]) > 0 {
		v, ok := parseUint(f[6])
		if !ok {
			return fieldErr(rep.Talker, TypeGGA, "satellites", f[6])
		}
		rep.Sats = v
	}
	if rep.HDOP, err = optFloat(f[7]); err != nil {
		return fieldErr(rep.Talker, TypeGGA, "hdop", f[7])
	}
	if rep.AltM, err = optFloat(f[8]); err != nil {
		return fieldErr(rep.Talker, TypeGGA, "altitude", f[8])
	}
	return nil
}

// modeString returns a one-character mode as a constant string (no allocation).
func modeString(b []byte) string {
	if len(b) == 1 {
		const modes = "ADPRFENSMV"
		for i := 0; i < len(modes); i++ {
			if modes[i] == b[0] {
				return modes[i : i+1]
			}
		}
	}
	return string(b)
}

// posFields sets the position from lat, N/S, lon, E/W; empty fields mean
// no position, a placeholder is flagged and not used.
func posFields(rep *Report, typ string, lat, ns, lon, ew []byte) error {
	if len(lat) == 0 && len(lon) == 0 {
		return nil
	}
	la, err := parseDM(lat)
	if err != nil {
		return fieldErr(rep.Talker, typ, "latitude", lat)
	}
	lo, err := parseDM(lon)
	if err != nil {
		return fieldErr(rep.Talker, typ, "longitude", lon)
	}
	switch string(ns) {
	case "N":
	case "S":
		la = -la
	default:
		if !(la == 0 && len(ns) == 0) {
			return fieldErr(rep.Talker, typ, "N/S", ns)
		}
	}
	switch string(ew) {
	case "E":
	case "W":
		lo = -lo
	default:
		if !(lo == 0 && len(ew) == 0) {
			return fieldErr(rep.Talker, typ, "E/W", ew)
		}
	}
	setPos(rep, la, lo)
	return nil
}

func setPos(rep *Report, lat, lon float64) {
	if placeholder(lat, lon) {
		rep.Placeholder = true
		return
	}
	rep.HasPos, rep.Lat, rep.Lon = true, lat, lon
}

// maxDMDigits bounds the integer part of ddmm/dddmm: five digits covers
// every longitude and the 36000/72000 placeholders.
const maxDMDigits = 5

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseDM parses [d]ddmm.mmmm into degrees. The minutes are rebuilt from
// integers, so the result is as exact as float64 allows. Out-of-range
// degrees (the 36000.0000 placeholder) are returned as they are and caught
// by placeholder.
func parseDM(b []byte) (float64, error) {
	if len(b) == 0 {
		return 0, ErrMalformed
	}
	var ip uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		ip = ip*10 + uint64(b[i]-'0')
	}
	if i == 0 || i > maxDMDigits {
		return 0, ErrMalformed
	}
	var frac uint64
	nf := 0
	if i < len(b) {
		if b[i] != '.' {
			return 0, ErrMalformed
		}
		for i++; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return 0, ErrMalformed
			}
			if nf < 15 {
				frac = frac*10 + uint64(c-'0')
				nf++
			}
		}
	}
	deg := ip / 100
	minutes := float64(ip%100) + float64(frac)/pow10[nf]
	if minutes >= 60 {
		return 0, ErrMalformed
	}
	return float64(deg) + minutes/60, nil
}

// parseTOD parses hhmmss[.s…] to a time of day rounded to the millisecond
// (as go-nmea does). An empty field is absent, not an error.
func parseTOD(b []byte) (time.Duration, bool, error) {
	if len(b) == 0 {
		return 0, false, nil
	}
	if len(b) < 6 || (len(b) > 6 && b[6] != '.') {
		return 0, false, ErrMalformed
	}
	var v [6]int
	for i := 0; i < 6; i++ {
		if b[i] < '0' || b[i] > '9' {
			return 0, false, ErrMalformed
		}
		v[i] = int(b[i] - '0')
	}
	h, m, s := v[0]*10+v[1], v[2]*10+v[3], v[4]*10+v[5]
	if h > 23 || m > 59 || s > 60 {
		return 0, false, ErrMalformed
	}
	var frac float64
	if len(b) > 7 {
		var n uint64
		nf := 0
		for _, c := range b[7:] {
			if c < '0' || c > '9' {
				return 0, false, ErrMalformed
			}
			if nf < 9 {
				n = n*10 + uint64(c-'0')
				nf++
			}
		}
		frac = float64(n) / pow10[nf]
	}
	ms := int64(math.Round(frac * 1000))
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second +
		time.Duration(ms)*time.Millisecond
	return d, true, nil
}

// dateField parses ddmmyy; empty is absent.
func dateField(rep *Report, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if len(b) != 6 {
		return ErrMalformed
	}
	var v [3]int
	for i := 0; i < 6; i++ {
		if b[i] < '0' || b[i] > '9' {
			return ErrMalformed
		}
		v[i/2] = v[i/2]*10 + int(b[i]-'0')
	}
	return setDate(rep, twoDigitYear(v[2]), v[1], v[0])
}

func setDate(rep *Report, y, m, d int) error {
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return ErrMalformed
	}
	if time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() != d {
		return ErrMalformed // 31 February
	}
	rep.HasDate, rep.Year, rep.Month, rep.Day = true, y, time.Month(m), d
	return nil
}

// optFloat parses a plain decimal ([-]digits[.digits]); empty is NaN.
func optFloat(b []byte) (float64, error) {
	if len(b) == 0 {
		return math.NaN(), nil
	}
	neg := false
	i := 0
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i++
	}
	var mant uint64
	digits, nf, dot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '.' && !dot:
			dot = true
		case c >= '0' && c <= '9':
			if mant < 1e17 {
				mant = mant*10 + uint64(c-'0')
				if dot {
					nf++
				}
			} else if !dot {
				return 0, ErrMalformed // absurdly large
			}
			digits++
		default:
			return 0, ErrMalformed
		}
	}
	if digits == 0 || nf >= len(pow10) {
		return 0, ErrMalformed
	}
	v := float64(mant) / pow10[nf]
	if neg {
		v = -v
	}
	return v, nil
}

// maxCount bounds a satellite count.
const maxCount = 999999

func parseUint(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= maxCount
}
