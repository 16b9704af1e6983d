package gps

import (
	"fmt"
	"math"
	"time"
)

// Status is what one sentence says about the quality of its fix.
type Status uint8

// Fix statuses, from sentences' status, quality and mode fields.
const (
	StatusUnknown Status = iota // the sentence says nothing about the fix
	StatusNone                  // no fix (RMC V, GGA 0, GNS N, placeholder position)
	StatusFix                   // autonomous, differential, RTK or PPS fix
	StatusDR                    // dead reckoning / estimated (GGA 6, mode E)
	StatusSim                   // simulator (GGA 8, mode S): never geotags
	StatusManual                // manual input (GGA 7, mode M): never geotags
)

var statusNames = [...]string{"unknown", "none", "fix", "dr", "sim", "manual"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Sentence types the tracker uses; every other type is counted and skipped.
const (
	TypeRMC = "RMC"
	TypeGGA = "GGA"
	TypeGNS = "GNS"
	TypeGLL = "GLL"
	TypeVTG = "VTG"
	TypeGSA = "GSA"
	TypeZDA = "ZDA"
)

// Report is what one sentence tells the tracker about its epoch. Fields
// the sentence does not carry are flagged absent (Has… false, NaN, or -1).
type Report struct {
	Type   string  // TypeRMC, TypeGGA, …
	Talker [2]byte // GP, GN, GL, GA, GB, BD, QZ, …

	HasTime bool
	TOD     time.Duration // receiver time of day, UTC, millisecond resolution

	HasDate bool
	Year    int // four digits
	Month   time.Month
	Day     int

	Status Status

	HasPos      bool
	Lat, Lon    float64 // WGS84 degrees
	Placeholder bool    // a position field was present but a known no-fix placeholder

	SpeedMPS  float64 // NaN when absent
	CourseDeg float64 // degrees true; NaN when absent
	HDOP      float64 // NaN when absent
	AltM      float64 // above mean sea level; NaN when absent
	Sats      int     // satellites used; -1 when absent

	GSAFix  int // GSA fix type 1..3; 0 when absent
	GSAUsed int // satellites listed in a GSA
}

// reset clears r for a sentence of type typ from talker.
func (r *Report) reset(typ string, talker [2]byte) {
	*r = Report{Type: typ, Talker: talker, SpeedMPS: math.NaN(), CourseDeg: math.NaN(),
		HDOP: math.NaN(), AltM: math.NaN(), Sats: -1}
}

// TalkerID returns the two-letter talker, e.g. "GN".
func (r *Report) TalkerID() string { return string(r.Talker[:]) }

// knotMPS is one knot in metres per second.
const knotMPS = 1852.0 / 3600.0

// twoDigitYear maps an RMC two-digit year into 1980–2079: GPS began in 1980.
func twoDigitYear(yy int) int {
	if yy < 80 {
		return 2000 + yy
	}
	return 1900 + yy
}

// placeholder reports whether lat/lon is a value receivers send while they
// have no fix: 90° latitude, out-of-range degrees (36000.0000), or 0/0.
func placeholder(lat, lon float64) bool {
	return math.Abs(lat) >= 90 || math.Abs(lon) > 180 || (lat == 0 && lon == 0) ||
		math.IsNaN(lat) || math.IsNaN(lon)
}

// ggaStatus maps GGA's quality indicator.
func ggaStatus(q byte) Status {
	switch q {
	case '0':
		return StatusNone
	case '1', '2', '3', '4', '5':
		return StatusFix
	case '6':
		return StatusDR
	case '7':
		return StatusManual
	case '8':
		return StatusSim
	}
	return StatusNone // unknown qualities (vendor lock states) are not trusted
}

// modeStatus maps a mode indicator string (RMC/GLL/VTG one character, GNS one
// per constellation): a simulator or manual character wins, then any real
// fix, then estimated, else none.
func modeStatus(m string) Status {
	var fix, dr, sim, manual, none bool
	for i := 0; i < len(m); i++ {
		switch m[i] {
		case 'A', 'D', 'P', 'R', 'F':
			fix = true
		case 'E':
			dr = true
		case 'S':
			sim = true
		case 'M':
			manual = true
		default: // N and anything unknown
			none = true
		}
	}
	switch {
	case sim:
		return StatusSim
	case manual:
		return StatusManual
	case fix:
		return StatusFix
	case dr:
		return StatusDR
	case none:
		return StatusNone
	}
	return StatusUnknown
}

// rmcStatus combines RMC's (or GLL's) status and mode fields. With a mode
// (NMEA 2.3+) the mode decides, except that a real-fix mode with status V
// is no fix; E with status V is the standard way to say dead reckoning.
func rmcStatus(valid byte, mode string) Status {
	if mode == "" {
		if valid == 'A' {
			return StatusFix
		}
		return StatusNone
	}
	s := modeStatus(mode)
	if s == StatusFix && valid != 'A' {
		return StatusNone
	}
	return s
}
