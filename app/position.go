package app

import "time"

// FixKind is the quality of a position fix.
type FixKind string

// Fix kinds, as the receiver reports them.
const (
	FixNone FixKind = "none"
	Fix2D   FixKind = "2d"
	Fix3D   FixKind = "3d"
	FixDR   FixKind = "dr"  // dead reckoning / estimated by the receiver
	FixSim  FixKind = "sim" // simulator mode: never used to geotag
)

// Usable reports whether a fix of this kind may geotag a read.
func (k FixKind) Usable() bool { return k == Fix2D || k == Fix3D || k == FixDR }

// Position is where the car was at Time and how far to trust it.
type Position struct {
	Time       time.Time     // the instant this position describes, UTC
	Fix        FixKind       // FixNone: Lat/Lon meaningless
	Lat, Lon   float64       // WGS84 degrees
	Age        time.Duration // from the fix it rests on to Time
	Estimated  bool          // interpolated or extrapolated beyond the receiver's own fixes
	SpeedMPS   float64       // ground speed, m/s
	HeadingDeg float64       // course over ground, degrees true; NaN when unknown
	HDOP       float64       // 0 when unknown
	Sats       int           // satellites used; 0 when unknown
	AltM       float64       // metres above mean sea level; NaN when unknown
}

// Locator answers where the car was at a given instant.
type Locator interface {
	At(t time.Time) Position
}
