package gps

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	nmea "github.com/adrianmo/go-nmea"
)

// Tolerant go-nmea parsers. go-nmea v1.10.0 rejects sentences that real
// receivers send; each parser below accepts them without guessing:
//
//   - RMC: the magnetic-variation E/W field (and everything after the date)
//     may be missing; an out-of-range placeholder position (36000.0000) is a
//     no-fix position, not an error (tn200.log).
//   - GGA: quality 7 (manual) and 8 (simulator) are standard, and vendors
//     put lock states there (jl-micro-jlt.log): unknown qualities mean no
//     fix; empty and placeholder positions are no position.
//   - GSA: the NMEA 4.10 system id is sometimes fractional (beidou-bd.log
//     sends "3.3"); it is not used, so it is not checked.
//   - GNS: vendors add mode characters (and drop fields); unknown mode
//     characters mean no fix for that constellation.
//   - GLL: as RMC, placeholders are no position.
//
// They are registered on the Decoder's own nmea.SentenceParser rather than
// with nmea.RegisterParser, so they do not change go-nmea for the rest of
// the program.

type rmc struct {
	nmea.BaseSentence
	rep Report
}

type gga struct {
	nmea.BaseSentence
	rep Report
}

type gsa struct {
	nmea.BaseSentence
	rep Report
}

type gns struct {
	nmea.BaseSentence
	rep Report
}

type gll struct {
	nmea.BaseSentence
	rep Report
}

func tolerantParsers() map[string]nmea.ParserFunc {
	return map[string]nmea.ParserFunc{
		TypeRMC: parseRMC,
		TypeGGA: parseGGA,
		TypeGSA: parseGSA,
		TypeGNS: parseGNS,
		TypeGLL: parseGLL,
	}
}

func talkerOf(s nmea.BaseSentence) [2]byte {
	var t [2]byte
	copy(t[:], s.Talker)
	return t
}

func parseRMC(s nmea.BaseSentence) (nmea.Sentence, error) {
	p := nmea.NewParser(s)
	m := rmc{BaseSentence: s}
	r := &m.rep
	r.reset(TypeRMC, talkerOf(s))
	tod(p, r, 0)
	valid := p.EnumString(1, "validity", nmea.ValidRMC, nmea.InvalidRMC)
	if valid == "" && p.Err() == nil {
		p.SetErr("validity", "")
	}
	latLon(p, r, 2, 3, 4, 5)
	r.SpeedMPS = nullFloat(p, 6, "speed") * knotMPS
	r.CourseDeg = nullFloat(p, 7, "course")
	if d := p.Date(8, "date"); p.Err() == nil && d.Valid {
		if setDate(r, twoDigitYear(d.YY), d.MM, d.DD) != nil {
			p.SetErr("date", p.Fields[8])
		}
	}
	var mode string
	if len(p.Fields) > 11 {
		mode = p.String(11, "FAA mode")
	}
	if p.Err() != nil {
		return nil, p.Err()
	}
	r.Status = rmcStatus(valid[0], mode)
	return m, nil
}

func parseGGA(s nmea.BaseSentence) (nmea.Sentence, error) {
	p := nmea.NewParser(s)
	m := gga{BaseSentence: s}
	r := &m.rep
	r.reset(TypeGGA, talkerOf(s))
	tod(p, r, 0)
	latLon(p, r, 1, 2, 3, 4)
	if q := p.String(5, "fix quality"); q != "" {
		if len(q) != 1 || q[0] < '0' || q[0] > '9' {
			p.SetErr("fix quality", q)
		} else {
			r.Status = ggaStatus(q[0])
		}
	}
	r.Sats = count(p, 6, "number of satellites")
	r.HDOP = nullFloat(p, 7, "hdop")
	r.AltM = nullFloat(p, 8, "altitude")
	if p.Err() != nil {
		return nil, p.Err()
	}
	return m, nil
}

func parseGSA(s nmea.BaseSentence) (nmea.Sentence, error) {
	p := nmea.NewParser(s)
	m := gsa{BaseSentence: s}
	r := &m.rep
	r.reset(TypeGSA, talkerOf(s))
	if v := p.EnumString(1, "fix type", nmea.FixNone, nmea.Fix2D, nmea.Fix3D); v != "" {
		r.GSAFix = int(v[0] - '0')
	}
	for i := 2; i < 14; i++ {
		if p.String(i, "satellite in use") != "" {
			r.GSAUsed++
		}
	}
	r.HDOP = nullFloat(p, 15, "hdop")
	if p.Err() != nil {
		return nil, p.Err()
	}
	return m, nil
}

func parseGNS(s nmea.BaseSentence) (nmea.Sentence, error) {
	p := nmea.NewParser(s)
	m := gns{BaseSentence: s}
	r := &m.rep
	r.reset(TypeGNS, talkerOf(s))
	tod(p, r, 0)
	latLon(p, r, 1, 2, 3, 4)
	if mode := p.String(5, "mode"); mode != "" {
		for i := 0; i < len(mode); i++ {
			if mode[i] < 'A' || mode[i] > 'Z' {
				p.SetErr("mode", mode)
				break
			}
		}
		r.Status = modeStatus(mode)
	}
	r.Sats = count(p, 6, "SVs")
	r.HDOP = nullFloat(p, 7, "HDOP")
	r.AltM = nullFloat(p, 8, "altitude")
	if p.Err() != nil {
		return nil, p.Err()
	}
	return m, nil
}

func parseGLL(s nmea.BaseSentence) (nmea.Sentence, error) {
	p := nmea.NewParser(s)
	m := gll{BaseSentence: s}
	r := &m.rep
	r.reset(TypeGLL, talkerOf(s))
	latLon(p, r, 0, 1, 2, 3)
	tod(p, r, 4)
	valid := byte('V')
	if len(p.Fields) > 5 {
		if v := p.EnumString(5, "validity", nmea.ValidGLL, nmea.InvalidGLL); v != "" {
			valid = v[0]
		}
	}
	var mode string
	if len(p.Fields) > 6 {
		mode = p.String(6, "FAA mode")
	}
	if p.Err() != nil {
		return nil, p.Err()
	}
	r.Status = rmcStatus(valid, mode)
	return m, nil
}

// tod reads a time of day with go-nmea.
func tod(p *nmea.Parser, r *Report, i int) {
	t := p.Time(i, "time")
	if p.Err() != nil || !t.Valid {
		return
	}
	if t.Hour > 23 || t.Minute > 59 || t.Second > 60 {
		p.SetErr("time", p.Fields[i])
		return
	}
	r.HasTime = true
	r.TOD = nmeaTOD(t)
}

// latLon reads a position with go-nmea's ddmm.mmmm decoder; a placeholder
// is flagged instead of failing the sentence.
func latLon(p *nmea.Parser, r *Report, i, ni, j, ej int) {
	lat, ns := p.String(i, "latitude"), p.String(ni, "latitude")
	lon, ew := p.String(j, "longitude"), p.String(ej, "longitude")
	if p.Err() != nil || (lat == "" && lon == "") {
		return
	}
	if ns == "" {
		ns = nmea.North // "0000.0000,," placeholders come without a hemisphere
	}
	if ew == "" {
		ew = nmea.East
	}
	la, err := nmea.ParseGPS(lat + " " + ns)
	if err != nil || !plainNumber(lat) {
		p.SetErr("latitude", lat)
		return
	}
	lo, err := nmea.ParseGPS(lon + " " + ew)
	if err != nil || !plainNumber(lon) {
		p.SetErr("longitude", lon)
		return
	}
	if minutesOutOfRange(lat) || minutesOutOfRange(lon) {
		p.SetErr("position", lat+","+lon)
		return
	}
	if (ns == nmea.North || ns == nmea.South) && (ew == nmea.East || ew == nmea.West) &&
		(p.Fields[ni] != "" || la == 0) && (p.Fields[ej] != "" || lo == 0) {
		setPos(r, la, lo)
		return
	}
	p.SetErr("hemisphere", ns+ew)
}

// minutesOutOfRange catches ddmm.mmmm values whose minutes are 60 or more,
// which go-nmea would silently carry into the degrees.
func minutesOutOfRange(s string) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err != nil || math.Mod(v, 100) >= 60
}

// plainNumber accepts what parseDM accepts: digits[.digits], at most
// maxDMDigits before the point.
func plainNumber(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	if i := strings.IndexByte(s, '.'); i > maxDMDigits || (i < 0 && len(s) > maxDMDigits) {
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '.' && !dot:
			dot = true
		case s[i] >= '0' && s[i] <= '9':
		default:
			return false
		}
	}
	return true
}

// count reads a satellite count: plain digits (no sign), at most maxCount;
// -1 when empty.
func count(p *nmea.Parser, i int, ctx string) int {
	s := p.String(i, ctx)
	if p.Err() != nil || s == "" {
		return -1
	}
	n := p.NullInt64(i, ctx)
	if strings.Trim(s, "0123456789") != "" || len(s) > 18 || n.Value > maxCount {
		p.SetErr(ctx, s)
		return -1
	}
	return int(n.Value)
}

func nullFloat(p *nmea.Parser, i int, ctx string) float64 {
	if i >= len(p.Fields) {
		return math.NaN()
	}
	v := p.NullFloat64(i, ctx)
	if !v.Valid || math.IsInf(v.Value, 0) || math.IsNaN(v.Value) {
		if v.Valid {
			p.SetErr(ctx, p.Fields[i])
		}
		return math.NaN()
	}
	return v.Value
}

func nmeaTOD(t nmea.Time) time.Duration {
	return time.Duration(t.Hour)*3600e9 + time.Duration(t.Minute)*60e9 + time.Duration(t.Second)*1e9 +
		time.Duration(t.Millisecond)*1e6
}

// fromNMEA turns a go-nmea sentence into a Report.
func fromNMEA(s nmea.Sentence, rep *Report) error {
	switch m := s.(type) {
	case rmc:
		*rep = m.rep
	case gga:
		*rep = m.rep
	case gsa:
		*rep = m.rep
	case gns:
		*rep = m.rep
	case gll:
		*rep = m.rep
	case nmea.VTG:
		// Speed in km/h is the more precise field when both are there.
		if kph := m.Fields[6]; kph != "" {
			rep.SpeedMPS = m.GroundSpeedKPH / 3.6
		} else if m.Fields[4] != "" {
			rep.SpeedMPS = m.GroundSpeedKnots * knotMPS
		}
		if m.Fields[0] != "" {
			rep.CourseDeg = m.TrueTrack
		}
		if m.FFAMode != "" && modeStatus(m.FFAMode) != StatusFix && modeStatus(m.FFAMode) != StatusDR {
			rep.SpeedMPS, rep.CourseDeg = math.NaN(), math.NaN()
		}
	case nmea.ZDA:
		if !m.Time.Valid {
			return nil
		}
		rep.HasTime, rep.TOD = true, nmeaTOD(m.Time)
		if m.Fields[1] != "" || m.Fields[2] != "" || m.Fields[3] != "" {
			if m.Year < 1980 || m.Year > 2200 || setDate(rep, int(m.Year), int(m.Month), int(m.Day)) != nil {
				return fmt.Errorf("%sZDA date %d-%d-%d: %w", m.Talker, m.Year, m.Month, m.Day, ErrMalformed)
			}
		}
	default:
		return fmt.Errorf("%s: unexpected sentence: %w", s.Prefix(), ErrMalformed)
	}
	return nil
}
