// Package gps turns the NMEA 0183 that real GNSS receivers send into the
// car's position at the instant a frame was captured, and says how far to
// trust it and the clock.
//
// # Pipeline
//
// One goroutine per Feed carries every sentence from the device to the
// tracker; nothing is queued between the stages, so memory stays bounded
// whatever the receiver sends:
//
//	Source ──bytes──▶ Decoder: frame ─▶ checksum ─▶ parse ──Report──▶ Tracker ◀── At(t) from the engine
//	(serial, gpsd,     (garbage, $$, NUL, truncated,   (go-nmea, tolerant         (merges epochs, keeps
//	 TCP, UDP, file)    over-long, bad checksum:         parsers, fast path        a bounded history,
//	                    dropped and counted in Stats)    for RMC and GGA)          tracks the clock)
//
// Backpressure: Source→Decoder→Tracker is synchronous. A slow consumer can
// only slow the reading of the device, and the kernel's serial or socket
// buffer absorbs that; Tracker.Update is O(1) and never blocks on the
// engine. The engine calls Tracker.At from its own goroutine; At takes a
// read lock and never waits on the device. Sources report state changes
// through a callback that must not block (the Feed calls it inline).
//
// # Sources
//
// Serial (go.bug.st/serial, 4800–115200 baud, or hunting for the rate),
// GPSD (gpsd's NMEA relay over TCP), TCP (raw NMEA from an in-vehicle
// router), UDP (a listener for the router's datagrams) and File (a log,
// as fast as it reads or at the receiver's own pace) all implement
// Source. A Feed owns one Source: Start(ctx) runs it on a goroutine that
// reopens it with exponential backoff (MinBackoff doubling to MaxBackoff,
// back to MinBackoff after a connection that delivered) whenever it fails,
// ends or stays silent for IdleTimeout, reporting each state change
// (connecting, connected, receiving, lost, done, stopped) to OnEvent; Stop
// cancels and waits. RunOnce is the synchronous single connection tests
// use. Feed.Stats sums the Decoder's counts over every connection.
//
// # Epochs
//
// A receiver sends a burst of sentences once per fix (an epoch). Sentences
// that carry a time (RMC, GGA, GNS, GLL, ZDA) open a new epoch when their
// time differs from the open one; those that carry none (GSA, VTG) belong
// to the open epoch (a receiver that sends GSA ahead of its epoch's timed
// sentences, like com-1289.log's, has it counted with the epoch before;
// GSA only chooses between 2D and 3D and fills HDOP and satellites when
// nothing else does, so at worst a change of dimension shows one epoch
// late). Within an epoch, a combined-constellation talker (GN)
// outranks a single-constellation one (GP, GL, GA, GB, BD, QZ, …), and
// among sentences of equal rank the most cautious fix status wins: a
// simulator or manual sentence makes the epoch unusable, a sentence that
// says "no fix" makes it none, an estimated one makes it dr.
//
// # What is never trusted
//
// Placeholder positions that receivers send while they have no fix (lat
// 90°, 36000.0000, 0/0) never become a fix. Simulator and manual-input
// fixes are reported (FixSim, or none for manual) but never geotag. A date
// before Tracker.MinDate (default: the April 2019 GPS week rollover), a
// date that disagrees with ZDA in the same epoch, or one that sits a whole
// number of 1024-week rollovers away from the system clock is treated as
// corrupted: live, the date is taken from the system clock at arrival and
// the time of day from the receiver; with no clock (replay), the epoch is
// reported as no fix.
//
// # Checksums
//
// A sentence whose checksum does not match is dropped and counted. A
// sentence with no checksum at all is accepted (NMEA 0183 before 3.0 made
// it optional, and some receivers omit it) only when it ended with CR or
// LF, contains only printable characters, and parses completely with every
// field its type requires; it is counted in Stats.NoChecksum. Set
// Decoder.RequireChecksum to drop them instead.
package gps
